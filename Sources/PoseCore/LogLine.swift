// Routes the coordinator's and worker's event lines by verbosity: problems always show,
// ordinary events (joins, listening, progress of the job) are silenced by --quiet.

extension FileHandleOutput {
    /// Prints one event line of a long-running command, prefixed with `tool: `.
    public static func event(_ tool: String, _ line: String) {
        let problem = ["warning", "fatal", "cannot", "refused", "giving up", "failed", "stopped by", "the coordinator refused", "second signal"]
            .contains { line.hasPrefix($0) || line.contains(" " + $0) }
        if problem { error(tool + ": " + line) } else { note(tool + ": " + line) }
    }
}
