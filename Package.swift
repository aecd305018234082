// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way: graph IR <- passes <- runtime <- model <- ONNX export <- bundle,
// and model <- training; the command line sits on top. Only BertRuntime imports CBLAS.
let package = Package(
    name: "bertc",
    platforms: [.macOS(.v15)],  // WorkerPool uses the Synchronization module (Atomic)
    products: [
        .executable(name: "bertc", targets: ["bertc"]),
        // The file readers, for the fuzz targets in fuzz/ (their own package, built with
        // -sanitize=fuzzer by tools/fuzz.sh).
        .library(name: "BertcReaders", targets: ["BertGraph", "BertPasses", "BertText", "BertModel", "BertBundle"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "BertGraph"),
        .target(name: "BertPasses", dependencies: ["BertGraph"]),
        .target(name: "BertRuntime", dependencies: ["BertGraph", "BertPasses", "CBLAS"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "BertText"),
        // renameat2(2) (atomic exchange, rename without replacing), which Glibc does not expose.
        .target(name: "CFileOps"),
        .target(name: "BertModel", dependencies: ["BertGraph", "BertPasses", "BertRuntime", "BertText", "CFileOps"]),
        // -fno-math-errno lets the fused optimizer loop vectorise its square roots.
        .target(name: "BertTraining", dependencies: ["BertGraph", "BertPasses", "BertRuntime", "BertModel", "BertText"],
                swiftSettings: [.unsafeFlags(["-Xcc", "-fno-math-errno"])]),
        // libonnx's checker behind a C function; flags match Debian's libonnx build (ONNXTargets.cmake).
        .target(name: "ONNXChecker",
                cxxSettings: [.define("ONNX_NAMESPACE", to: "onnx"), .define("ONNX_ML", to: "1")],
                linkerSettings: [.linkedLibrary("onnx"), .linkedLibrary("onnx_proto"), .linkedLibrary("protobuf")]),
        // ONNX export, validation, inspection and the ONNX Runtime runner.
        .target(name: "BertONNX", dependencies: ["BertGraph", "BertRuntime", "BertModel", "BertText",
                                                 "ONNXChecker", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // The native bundle: writer, loader, integrity, verification; `bertc export` for both formats.
        .target(name: "BertBundle", dependencies: ["BertGraph", "BertPasses", "BertRuntime", "BertModel", "BertText",
                                                   "BertONNX"]),
        .executableTarget(name: "bertc", dependencies: [
            "BertGraph", "BertPasses", "BertRuntime", "BertText", "BertModel", "BertTraining", "BertONNX", "BertBundle",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // What the test targets share: graphs (every op, random graphs, a tiny BERT built by
        // hand) and the paths of the repository and the pretrained model.
        .target(name: "BertTestSupport", dependencies: ["BertGraph", "BertRuntime"], path: "Tests/BertTestSupport"),
        .testTarget(name: "BertGraphTests", dependencies: ["BertGraph", "BertPasses", "BertRuntime", "BertTestSupport"]),
        // One file per pass: IR text before, the expected IR text after.
        .testTarget(name: "BertPassesTests", dependencies: ["BertGraph", "BertPasses", "BertTestSupport"]),
        .testTarget(name: "BertTextTests", dependencies: ["BertText"]),
        .testTarget(name: "BertRuntimeTests", dependencies: ["BertGraph", "BertPasses", "BertRuntime"]),
        .testTarget(name: "BertTrainingTests", dependencies: ["BertGraph", "BertPasses", "BertRuntime", "BertModel", "BertText",
                                                          "BertTraining", "BertTestSupport"]),
        .testTarget(name: "BertONNXTests", dependencies: ["BertGraph", "BertPasses", "BertRuntime", "BertModel", "BertONNX",
                                                     "BertTestSupport"]),
        .testTarget(name: "BertBundleTests", dependencies: ["BertGraph", "BertRuntime", "BertModel", "BertText", "BertONNX", "BertBundle",
                                                       "BertTestSupport"]),
        .testTarget(name: "BertModelTests", dependencies: ["BertGraph", "BertPasses", "BertRuntime", "BertModel", "BertText",
                                                      "BertTestSupport"]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx17
)
