// Fuzz target: a tab-separated data file, read by every reader that takes one: each GLUE task's
// processor on each split (TSV files under glue/<task>/), MRPC from the MSR files and from
// GLUE's, and the sentence pairs `--input` reads (SamplePairs). The readers take paths, so
// the input is written to one file that every path of a data root in /dev/shm links to.

import BertBundle
import BertText
import Foundation

let dataRootPath = (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
    + "/bertc-fuzz-tsv-\(getpid())"

/// A data root whose files are all hard links to `input`, so one write updates every one.
let dataRoot: (root: String, input: String) = {
    let root = dataRootPath
    let input = "\(root)/input.tsv"
    let files = ["glue/MRPC/msr_paraphrase_train.txt", "glue/MRPC/msr_paraphrase_test.txt", "glue/MRPC/dev_ids.tsv"]
        + ["SST-2", "CoLA", "RTE", "STS-B", "MRPC"].flatMap { task in
            DatasetSplit.allCases.map { "glue/\(task)/\($0.rawValue).tsv" }
        }
    do {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: input, contents: Data()) else { fatalError("cannot create \(input)") }
        for file in files {
            let path = "\(root)/\(file)"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            guard link(input, path) == 0 else { fatalError("cannot link \(path)") }
        }
    } catch {
        fatalError("cannot make the fuzz data root \(root): \(error)")
    }
    atexit { try? FileManager.default.removeItem(atPath: dataRootPath) }
    return (root, input)
}()

let processors: [any TaskProcessor] = taskProcessors.keys.sorted().compactMap { taskProcessors[$0] }
    + [MRPCProcessor(source: .glue)]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (root, input) = dataRoot
    // Rewrite in place (same inode): open with O_TRUNC, not a replace.
    let fd = open(input, O_WRONLY | O_TRUNC)
    guard fd >= 0 else { fatalError("cannot open \(input)") }
    var written = 0
    while written < count, let start {
        let n = write(fd, start + written, count - written)
        guard n > 0 else { fatalError("cannot write \(input)") }
        written += n
    }
    close(fd)
    let data = DataLocator(root: root)
    for processor in processors {
        // dev reads the same way as train (MRPC's MSR dev too, through dev_ids.tsv).
        for split in [DatasetSplit.train, .test] { _ = try? processor.examples(split, in: data) }
    }
    _ = try? SamplePairs.read(tsv: input)
    return 0
}
