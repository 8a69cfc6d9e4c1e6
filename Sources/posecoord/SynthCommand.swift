// posecoord synth: placeholder until its issue lands (see issues); replaced by the real command.
import PoseCore

enum SynthCommand {
    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        throw UsageError("'synth' is not available in this build yet")
    }
}
