// poseworker infer: placeholder until its issue lands (see issues); replaced by the real command.
import PoseCore

enum InferCommand {
    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        throw UsageError("'infer' is not available in this build yet")
    }
}
