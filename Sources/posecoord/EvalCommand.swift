// posecoord eval: placeholder until its issue lands (see issues); replaced by the real command.
import PoseCore

enum EvalCommand {
    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        throw UsageError("'eval' is not available in this build yet")
    }
}
