import Foundation
import XCTest
@testable import BertText

/// Split sizes of the real GLUE / MSR files, and typed errors for missing or malformed data.
final class TaskProcessorTests: XCTestCase {
    func testMRPCFromMSRFilesGivesTheOfficialSplit() throws {
        let data = try TestFixtures.dataLocator()
        let mrpc = MRPCProcessor()
        let train = try mrpc.examples(.train, in: data)
        let dev = try mrpc.examples(.dev, in: data)
        XCTAssertEqual(train.count, 3668)
        XCTAssertEqual(dev.count, 408)
        XCTAssertEqual(Set(train.map(\.guid)).intersection(dev.map(\.guid)), [])
        // The first MSR row stays in train; its label is 1.
        XCTAssertEqual(train[0].textA.prefix(17), "Amrozi accused hi")
        XCTAssertEqual(train[0].label, .category(1))
        // Dev keeps the MSR file's order.
        let devLines = dev.map { Int($0.guid.split(separator: "-")[1])! }
        XCTAssertEqual(devLines, devLines.sorted())
        XCTAssertEqual(mrpc.labels, ["0", "1"])
    }

    func testMRPCTestSplitFromMSRNeedsTheMSRTestFile() throws {
        let data = try TestFixtures.dataLocator()
        try XCTSkipIf(data.fileExists(MRPCProcessor.msrTestFile), "this data root has msr_paraphrase_test.txt")
        XCTAssertThrowsError(try MRPCProcessor().examples(.test, in: data)) { error in
            XCTAssertTrue("\(error)".contains("msr_paraphrase_test.txt"), "\(error)")
        }
    }

    func testMRPCFromGLUETSVs() throws {
        let data = try TestFixtures.dataLocator()
        let mrpc = MRPCProcessor(source: .glue)
        XCTAssertEqual(try mrpc.examples(.dev, in: data).count, 408)
        XCTAssertEqual(try mrpc.examples(.train, in: data).count, 3667)  // this copy lacks one pair
        let test = try mrpc.examples(.test, in: data)
        XCTAssertEqual(test.count, 1725)
        XCTAssertNil(test[0].label)
    }

    func testOtherGLUETasks() throws {
        let data = try TestFixtures.dataLocator()
        XCTAssertEqual(try GLUETableTask.sst2.examples(.dev, in: data).count, 872)
        let cola = try GLUETableTask.cola.examples(.dev, in: data)
        XCTAssertEqual(cola.count, 1043)
        XCTAssertEqual(cola[0].textA, "The sailors rode the breeze clear of the rocks.")
        XCTAssertEqual(cola[0].label, .category(1))
        let rte = try GLUETableTask.rte.examples(.dev, in: data)
        XCTAssertEqual(rte.count, 277)
        XCTAssertEqual(rte[0].label, .category(1))  // not_entailment
        XCTAssertNotNil(rte[0].textB)
        let stsb = try GLUETableTask.stsb.examples(.dev, in: data)
        XCTAssertEqual(stsb.count, 1500)
        XCTAssertEqual(stsb[0].label, .score(5))
        XCTAssertTrue(GLUETableTask.stsb.isRegression)
        XCTAssertEqual(taskProcessors.count, 5)
    }

    func testMalformedRowNamesFileAndLine() throws {
        let directory = try TestFixtures.temporaryDirectory(self)
        let glue = directory.appendingPathComponent("glue/MRPC", isDirectory: true)
        try FileManager.default.createDirectory(at: glue, withIntermediateDirectories: true)
        let file = glue.appendingPathComponent("msr_paraphrase_train.txt")
        try "\u{FEFF}Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\t\"a\"\tb\n0\t3\t4\tonly four\n"
            .write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try MRPCProcessor().msrExamples(file: file.path, split: .train)) { error in
            XCTAssertEqual(error as? DataError,
                           .wrongColumnCount(file: file.path, line: 3, expected: 5...5, found: 4))
            XCTAssertEqual("\(error)", "\(file.path):3: expected 5 tab-separated columns, found 4")
        }
        try "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\t\"a\"\tb\nyes\t3\t4\tc\td\n"
            .write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try MRPCProcessor().msrExamples(file: file.path, split: .train)) { error in
            XCTAssertEqual("\(error)", "\(file.path):3: bad label \"yes\" (expected one of 0, 1)")
        }
        // A quote is an ordinary character and the byte-order mark is skipped.
        try "\u{FEFF}Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\t\"a\tb\"\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let rows = try MRPCProcessor().msrExamples(file: file.path, split: .train)
        XCTAssertEqual(rows.map(\.example.textA), ["\"a"])
        XCTAssertEqual(rows.map(\.example.textB), ["b\""])
    }

    func testDataLocatorUsesANamedRootAsIsAndSearchesOnlyWithoutOne() throws {
        let directory = try TestFixtures.temporaryDirectory(self)
        let explicit = directory.appendingPathComponent("explicit").path
        let fromEnvironment = directory.appendingPathComponent("env").path
        let work = directory.appendingPathComponent("work/checkout").path
        let shared = directory.appendingPathComponent("work/shared/data").path
        for path in [fromEnvironment, work, shared] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        let environment = [DataLocator.environmentVariable: fromEnvironment]
        XCTAssertEqual(DataLocator.candidates(explicitRoot: explicit, environment: environment, currentDirectory: work),
                       [explicit])
        XCTAssertEqual(DataLocator.candidates(explicitRoot: nil, environment: [:], currentDirectory: work),
                       [shared, work + "/data"])
        // A named directory that does not exist is an error, never a fall-back to another one.
        XCTAssertThrowsError(try DataLocator(explicitRoot: explicit, environment: environment, currentDirectory: work)) { error in
            XCTAssertEqual(error as? DataError, .dataRootMissing(path: explicit, source: "--data-dir", reason: "does not exist"))
            XCTAssertTrue("\(error)".contains(explicit))
        }
        let missingEnvironment = [DataLocator.environmentVariable: explicit]
        XCTAssertThrowsError(try DataLocator(environment: missingEnvironment, currentDirectory: work)) { error in
            XCTAssertTrue("\(error)".contains("$BERTC_DATA"), "\(error)")
        }
        let file = directory.appendingPathComponent("file").path
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DataLocator(explicitRoot: file, environment: [:], currentDirectory: work)) { error in
            XCTAssertTrue("\(error)".contains("not a directory"), "\(error)")
        }
        XCTAssertEqual(try DataLocator(explicitRoot: "../shared/data", environment: environment, currentDirectory: work).root,
                       shared)
        XCTAssertEqual(try DataLocator(environment: environment, currentDirectory: work).root, fromEnvironment)
        XCTAssertEqual(try DataLocator(environment: [:], currentDirectory: work).root, shared)
        let nowhere = directory.appendingPathComponent("nowhere").path
        XCTAssertThrowsError(try DataLocator(environment: [:], currentDirectory: nowhere)) { error in
            guard case .noDataRoot(let tried)? = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual(tried.count, 2)
        }
    }
}
