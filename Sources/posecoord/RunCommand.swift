// posecoord run: placeholder until its issue lands (see issues); replaced by the real command.
import PoseCore

enum RunCommand {
    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        throw UsageError("'run' is not available in this build yet")
    }
}
