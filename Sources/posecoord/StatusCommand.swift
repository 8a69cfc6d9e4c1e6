// posecoord status: placeholder until its issue lands (see issues); replaced by the real command.
import PoseCore

enum StatusCommand {
    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        throw UsageError("'status' is not available in this build yet")
    }
}
