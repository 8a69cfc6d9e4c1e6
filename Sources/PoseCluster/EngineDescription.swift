// The kernel variant this binary runs, in words, for `--version`, the status page and /metrics;
// and the start-up check that a bad POSE_ISA fails as a sentence before any kernel runs.
import PoseCore
import PoseTensor
#if canImport(Glibc)
import Glibc
#endif

public enum EngineDescription {
    /// `avx512bf16 (fp32 micro-kernel avx512-fma; this CPU runs generic, avx2, avx512, avx512bf16)`.
    public static var kernels: String {
        let isa = KernelISA.active
        return "\(isa.rawValue) (fp32 micro-kernel \(isa.fp32Kernel), bf16 kernel class \(isa.bf16Kernel.rawValue); "
            + "this CPU runs \(KernelISA.supported.map(\.rawValue).joined(separator: ", "))"
            + "; \(KernelISA.environmentVariable) forces one)"
    }

    /// The lines `--version` prints after the version.
    public static var versionLines: [String] { ["kernels: " + kernels] }

    /// The environment variables the tools' top-level help describes.
    public static let environmentNotes = """
    environment:
      \(KernelISA.environmentVariable)=\(KernelISA.allCases.map(\.rawValue).joined(separator: "|"))  force a kernel variant (default: the best this CPU runs)
    """

    /// Exits with status 2 and a sentence when POSE_ISA names a variant that does not exist or
    /// this CPU cannot run; call first thing in an executable.
    public static func checkEnvironment(tool: String) {
        do {
            _ = try KernelISA.fromEnvironment()
        } catch {
            FileHandleOutput.error("\(tool): \(error)")
            exit(2)
        }
    }
}
