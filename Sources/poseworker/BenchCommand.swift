// poseworker bench: placeholder until its issue lands (see issues); replaced by the real command.
import PoseCore

enum BenchCommand {
    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        throw UsageError("'bench' is not available in this build yet")
    }
}
