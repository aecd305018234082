// Which kernels OpenBLAS runs. A dynamic-arch OpenBLAS picks its kernel set once, when it is
// loaded, from the CPU's family and model; a library older than the CPU does not know the
// model and falls back to its oldest SSE3 set (`Prescott`), which runs sgemm about four times
// slower than the AVX2 set on the same core. The only way to choose another set is the
// environment variable OPENBLAS_CORETYPE, read at load time, so the command line starts
// itself again with it set when that fallback happened on a CPU with AVX2 and FMA.
import CBLAS
import Foundation

public enum OpenBLASKernels {
    /// The variable OpenBLAS reads when it is loaded.
    public static let environmentVariable = "OPENBLAS_CORETYPE"

    /// The kernel set OpenBLAS chose, as it names it (e.g. "Haswell", "Prescott").
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Kernel sets without AVX2: what a library that does not know the CPU falls back to.
    static let preAVX2 = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine",
                          "northwood", "banias", "unknown"]

    /// The AVX2 + FMA kernel set to ask for when OpenBLAS fell back below what the CPU runs,
    /// or nil: the variable is already set (the user's choice, or a restart already made),
    /// OpenBLAS chose a set with AVX2 or better, or the CPU lacks AVX2 or FMA.
    /// - Parameters:
    ///   - environment: the process environment.
    ///   - coreName: the set OpenBLAS chose.
    ///   - cpuFlags: the CPU's feature flags (`/proc/cpuinfo`'s `flags`).
    public static func better(environment: [String: String], coreName: String, cpuFlags: Set<String>) -> String? {
        guard environment[environmentVariable] == nil else { return nil }
        guard preAVX2.contains(coreName.lowercased()) else { return nil }
        guard cpuFlags.contains("avx2"), cpuFlags.contains("fma") else { return nil }
        return "Haswell"
    }

    /// The `flags` of the first processor in `/proc/cpuinfo` (empty where there is none).
    public static func cpuFlags(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Set<String> {
        guard let line = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Starts this program again with the better kernel set when `better` names one; returns
    /// (and the program goes on with the kernels it has) when it does not or the restart fails.
    public static func restartWithBetterKernelsIfNeeded() {
        #if os(Linux)
        let environment = ProcessInfo.processInfo.environment
        guard let core = better(environment: environment, coreName: coreName, cpuFlags: cpuFlags()) else { return }
        setenv(environmentVariable, core, 1)
        let arguments = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // Only reached when execv failed: go on with the kernels OpenBLAS has.
        unsetenv(environmentVariable)
        #endif
    }
}
