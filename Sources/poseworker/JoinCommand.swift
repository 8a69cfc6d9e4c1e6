// poseworker join: placeholder until its issue lands (see issues); replaced by the real command.
import PoseCore

enum JoinCommand {
    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        throw UsageError("'join' is not available in this build yet")
    }
}
