// --precision fp32|bf16|auto for `posecoord run` and `serve`: the job's arithmetic for the linear
// layers. `auto` is resolved on this machine (bf16 where it has AMX or AVX512_BF16), so the job's
// fingerprint and every worker see one concrete precision.
import PoseCore
import PoseTensor

enum PrecisionArgument {
    static let spec = OptionSpec.option("--precision", "fp32|bf16|auto", "arithmetic of the linear layers (auto: bf16 where this CPU has AMX or AVX512_BF16)", default: "fp32")

    static func parse(_ arguments: inout CommandArguments) throws -> Precision {
        let isa: KernelISA
        do { isa = try KernelISA.fromEnvironment() } catch { throw UsageError("\(error)") }
        guard let text = try arguments.option("--precision") else { return .fp32 }
        guard let precision = Precision(setting: text, isa: isa) else {
            throw UsageError("--precision must be fp32, bf16 or auto, got \"\(text)\"")
        }
        return precision
    }
}
