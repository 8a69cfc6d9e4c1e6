// posecoord status: prints a coordinator's status (fetched from its --http /status) in a terminal.
import Foundation
import PoseCluster
import PoseCore

enum StatusCommand {
    static let usage = """
    usage: posecoord status HOST:PORT [--json] [--watch SECONDS]
      HOST:PORT is the coordinator's --http address.
    """

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        if arguments.flag("--help") { print(usage); return 0 }
        let json = arguments.flag("--json")
        let watch = try arguments.double("--watch", default: 0)
        guard let address = arguments.positional() else { throw UsageError("missing HOST:PORT\n\(usage)") }
        try arguments.finish()
        let endpoint = try Endpoint(parsing: address, option: "HOST:PORT")
        while true {
            let response: (status: Int, body: [UInt8])
            do {
                response = try HTTPClient.get(endpoint, path: "/status")
            } catch {
                FileHandleOutput.error("posecoord status: cannot reach \(endpoint) (\(error)); is it the coordinator's --http address?")
                return 1
            }
            guard response.status == 200 else {
                FileHandleOutput.error("posecoord status: \(endpoint) answered HTTP \(response.status)")
                return 1
            }
            if json {
                print(String(decoding: response.body, as: UTF8.self))
            } else {
                do {
                    print(try ClusterStatus.decode(response.body).terminalText())
                } catch {
                    FileHandleOutput.error("posecoord status: \(endpoint) did not answer with a posecluster status: \(error)")
                    return 1
                }
            }
            guard watch > 0 else { return 0 }
            Thread.sleep(forTimeInterval: watch)
        }
    }
}
