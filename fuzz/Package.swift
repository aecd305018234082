// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for bertc's file readers. A package of its own so that the root package's
// `swift build` and `swift test` never see them: tools/fuzz.sh builds it with
// `--sanitize fuzzer --sanitize address` (every module, the readers included, instrumented)
// into .build-fuzz and runs each target on its seed corpus in fuzz/corpus/<target>/.
//
// Each target is one file defining `LLVMFuzzerTestOneInput` (libFuzzer provides `main`); it
// feeds the bytes to the real reader and ignores thrown errors: only crashes, hangs and
// sanitizer reports count.

let fuzzTargets = ["safetensors", "tf-checkpoint", "graph", "manifest", "vocabulary", "tsv", "config"]

let package = Package(
    name: "bertc-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "bertc", path: "..")],
    targets: [
        // libFuzzer's own functions (LLVMFuzzerMutate) for the custom mutator.
        .target(name: "FuzzerInterface"),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzerInterface", .product(name: "BertcReaders", package: "bertc")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])])
    },
    swiftLanguageModes: [.v5]
)
