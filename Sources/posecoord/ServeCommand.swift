// posecoord serve: placeholder until its issue lands (see issues); replaced by the real command.
import PoseCore

enum ServeCommand {
    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        throw UsageError("'serve' is not available in this build yet")
    }
}
