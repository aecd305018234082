@testable import BertRuntime
import XCTest

final class OpenBLASKernelsTests: XCTestCase {
    /// The AVX2 kernels are asked for only when OpenBLAS fell back below a CPU with AVX2 and
    /// FMA and nobody set the variable.
    func testBetterKernelSetOnlyForAFallbackOnAnAVX2CPU() {
        let avx512: Set = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512_vnni"]
        XCTAssertEqual(OpenBLASKernels.better(environment: [:], coreName: "Prescott", cpuFlags: avx512), "Haswell")
        XCTAssertEqual(OpenBLASKernels.better(environment: [:], coreName: "Core2", cpuFlags: avx512), "Haswell")
        XCTAssertNil(OpenBLASKernels.better(environment: [:], coreName: "Haswell", cpuFlags: avx512))
        XCTAssertNil(OpenBLASKernels.better(environment: [:], coreName: "SkylakeX", cpuFlags: avx512))
        XCTAssertNil(OpenBLASKernels.better(environment: ["OPENBLAS_CORETYPE": "Prescott"], coreName: "Prescott",
                                            cpuFlags: avx512))
        XCTAssertNil(OpenBLASKernels.better(environment: [:], coreName: "Prescott", cpuFlags: ["sse3", "avx"]))
        XCTAssertNil(OpenBLASKernels.better(environment: [:], coreName: "Prescott", cpuFlags: ["avx2"]))
    }

    func testCPUFlagsFromCpuinfo() {
        let text = "processor\t: 0\nmodel name\t: X\nflags\t\t: fpu sse3 avx2 fma avx512f\nbugs\t\t: none\n"
        XCTAssertEqual(OpenBLASKernels.cpuFlags(cpuinfo: text), ["fpu", "sse3", "avx2", "fma", "avx512f"])
        XCTAssertEqual(OpenBLASKernels.cpuFlags(cpuinfo: nil), [])
        XCTAssertFalse(OpenBLASKernels.coreName.isEmpty)
    }
}
