// posecoord status: prints a coordinator's status (fetched from its --http /status) in a terminal.
import Foundation
import PoseCluster
import PoseCore

enum StatusCommand {
    /// Where the coordinator is when no HOST:PORT is given.
    static let addressVariable = "POSECLUSTER_ADDRESS"

    static let spec = CommandSpec("status", summary: "print a coordinator's status (from its --http address)",
                                  positionals: "[HOST:PORT]", options: [
        .flag("--json", "print the /status JSON as it came"),
        .option("--watch", "SECONDS", "print again every SECONDS (only when something changed)", default: "0: once"),
        .option("--token-file", "FILE", "the cluster token, which a non-loopback status page needs (or POSECLUSTER_TOKEN)", default: "none"),
    ], notes: """
    HOST:PORT is the coordinator's --http address; without it, the environment variable
    \(addressVariable) is used.
    """)

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        let json = arguments.flag("--json")
        let watch = try arguments.double("--watch", default: 0)
        guard watch >= 0 else { throw UsageError("--watch must be a number of seconds, got \(watch)") }
        let tokenFile = try arguments.option("--token-file")
        let given = arguments.positional()
        try arguments.finish()
        guard let address = given ?? ProcessInfo.processInfo.environment[addressVariable] else {
            throw UsageError("missing HOST:PORT (the coordinator's --http address), and \(addressVariable) is not set")
        }
        let endpoint = try Endpoint(argument: address, option: given == nil ? addressVariable : "HOST:PORT")
        // A status page on a non-loopback address wants the cluster token.
        let token = try ClusterToken.load(file: tokenFile, environment: ProcessInfo.processInfo.environment)
        var printed: String?
        while true {
            let response: (status: Int, body: [UInt8])
            do {
                response = try HTTPClient.get(endpoint, path: "/status", token: token)
            } catch {
                FileHandleOutput.error("posecoord status: cannot reach \(endpoint) (\(error)); is it the coordinator's --http address?")
                return 1
            }
            if response.status == 401 {
                FileHandleOutput.error("posecoord status: \(endpoint) wants the cluster token: pass --token-file or set \(ClusterToken.environmentVariable)")
                return 1
            }
            guard response.status == 200 else {
                FileHandleOutput.error("posecoord status: \(endpoint) answered HTTP \(response.status)")
                return 1
            }
            let text: String
            if json {
                text = String(decoding: response.body, as: UTF8.self)
            } else {
                do {
                    text = try ClusterStatus.decode(response.body).terminalText()
                } catch {
                    FileHandleOutput.error("posecoord status: \(endpoint) did not answer with a posecluster status: \(error)")
                    return 1
                }
            }
            // An idle coordinator says the same thing every time: print it once.
            if json || StatusCommand.changed(text, since: printed) { print(text); fflush(nil) }
            printed = text
            guard watch > 0 else { return 0 }
            Thread.sleep(forTimeInterval: watch)
        }
    }

    /// True when `text` differs from what was printed last other than in the elapsed time,
    /// which ends the first line ("posecluster watching, 5m02s elapsed").
    static func changed(_ text: String, since printed: String?) -> Bool {
        guard let printed else { return true }
        func withoutElapsed(_ text: String) -> [Substring] {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if let first = lines.first, let comma = first.lastIndex(of: ",") { lines[0] = first[..<comma] }
            return lines
        }
        return withoutElapsed(text) != withoutElapsed(printed)
    }
}
