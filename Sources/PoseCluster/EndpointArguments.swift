// `HOST:PORT` on the command line: a malformed address is the caller's mistake (exit status 2).
import PoseCore

extension Endpoint {
    /// Parses a command-line `HOST:PORT`; a malformed one is a usage error naming `option`.
    public init(argument text: String, option: String) throws {
        do { self = try Endpoint(parsing: text, option: option) } catch let error as EndpointError {
            throw UsageError(error.description)
        }
    }
}

extension CommandArguments {
    /// The `HOST:PORT` given to `name`, or with `orDefault` its table default; nil when absent.
    public func endpoint(_ name: String, orDefault: Bool = false) throws -> Endpoint? {
        guard let text = try option(name) ?? (orDefault ? value(name) : nil) else { return nil }
        return try Endpoint(argument: text, option: name)
    }
}
