// What the coordinator shows about itself: one snapshot type, rendered as JSON (/status),
// Prometheus text (/metrics), a small HTML page (/) and terminal lines (`posecoord status`).
import Foundation

public struct ClusterStatus: Codable, Sendable, Equatable {
    public struct Job: Codable, Sendable, Equatable {
        /// "scanning", "running", "draining", "done", "failed", "watching".
        public var state: String = "scanning"
        public var elapsedSeconds: Double = 0
        public var videos = 0
        public var videosDone = 0
        public var videosFailed = 0
        public var units = 0
        public var unitsAccepted = 0
        /// Units accepted in an earlier run and restored from the journal (not redone).
        public var unitsRestored = 0
        public var unitsFailed = 0
        /// Leases currently out.
        public var unitsLeased = 0
        /// Every UNIT sent, first leases and re-leases.
        public var leasesSent = 0
        /// Units leased again after their worker died, stalled or disconnected.
        public var unitsReleased = 0
        /// Speculative second leases of slow units.
        public var unitsSpeculative = 0
        /// Results for units already accepted (dropped).
        public var duplicates = 0
        /// FAIL messages received from workers.
        public var workerFailures = 0
        public var windows = 0
        public var windowsDone = 0
        public var windowsPerSecond: Double = 0
        public var etaSeconds: Double?
        /// Connections refused or closed for bad input (auth, framing, limits).
        public var connectionsRejected = 0
        /// Of `connectionsRejected`: authenticated peers closed for breaking the protocol (a RESULT or
        /// FAIL for a lease they do not hold, values out of range).
        public var protocolViolations = 0
        public var bytesSent: UInt64 = 0
        public var bytesReceived: UInt64 = 0
        public init() {}
    }

    public struct Worker: Codable, Sendable, Equatable {
        public var id: UInt64
        public var name: String
        public var peer: String
        public var threads: Int
        public var credits: Int
        public var inFlight: Int
        public var unitsDone: Int
        public var windowsDone: Int
        public var windowsPerSecond: Double
        public var connectedSeconds: Double
        public init(id: UInt64, name: String, peer: String, threads: Int, credits: Int, inFlight: Int,
                    unitsDone: Int, windowsDone: Int, windowsPerSecond: Double, connectedSeconds: Double) {
            self.id = id; self.name = name; self.peer = peer; self.threads = threads; self.credits = credits
            self.inFlight = inFlight; self.unitsDone = unitsDone; self.windowsDone = windowsDone
            self.windowsPerSecond = windowsPerSecond; self.connectedSeconds = connectedSeconds
        }
    }

    public struct Video: Codable, Sendable, Equatable {
        public var name: String
        /// "pending", "running", "done", "failed".
        public var state: String
        public var units: Int
        public var unitsDone: Int
        public var unitsFailed: Int
        public var reason: String?
        public init(name: String, state: String, units: Int, unitsDone: Int, unitsFailed: Int, reason: String? = nil) {
            self.name = name; self.state = state; self.units = units; self.unitsDone = unitsDone
            self.unitsFailed = unitsFailed; self.reason = reason
        }
    }

    public var job = Job()
    public var workers: [Worker] = []
    public var videos: [Video] = []

    public init() {}

    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array((try? encoder.encode(self)) ?? Data("{}".utf8))
    }

    public static func decode(_ bytes: [UInt8]) throws -> ClusterStatus {
        try JSONDecoder().decode(ClusterStatus.self, from: Data(bytes))
    }

    /// Prometheus text exposition format (version 0.0.4).
    public func prometheus() -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: Double, labels: String = "") {
            out += "# HELP posecluster_\(name) \(help)\n# TYPE posecluster_\(name) \(type)\n"
            out += "posecluster_\(name)\(labels) \(Self.number(value))\n"
        }
        metric("videos", "gauge", "Videos in the job.", Double(job.videos))
        metric("videos_done", "gauge", "Videos written.", Double(job.videosDone))
        metric("videos_failed", "gauge", "Videos that failed.", Double(job.videosFailed))
        metric("units", "gauge", "Work units known so far.", Double(job.units))
        metric("units_accepted_total", "counter", "Unit results accepted (exactly once each).", Double(job.unitsAccepted))
        metric("units_restored_total", "counter", "Units restored from the journal at start-up.", Double(job.unitsRestored))
        metric("units_failed_total", "counter", "Units marked failed after the retry cap.", Double(job.unitsFailed))
        metric("units_leased", "gauge", "Leases out now.", Double(job.unitsLeased))
        metric("leases_sent_total", "counter", "UNIT messages sent.", Double(job.leasesSent))
        metric("units_released_total", "counter", "Units leased again after their worker went away or stalled.", Double(job.unitsReleased))
        metric("units_speculative_total", "counter", "Speculative leases of slow units.", Double(job.unitsSpeculative))
        metric("duplicate_results_total", "counter", "Results dropped because the unit was already accepted.", Double(job.duplicates))
        metric("worker_failures_total", "counter", "FAIL messages from workers.", Double(job.workerFailures))
        metric("windows", "gauge", "Windows known so far.", Double(job.windows))
        metric("windows_done_total", "counter", "Windows accepted.", Double(job.windowsDone))
        metric("windows_per_second", "gauge", "Recent accepted windows per second.", job.windowsPerSecond)
        metric("connections_rejected_total", "counter", "Connections refused or closed for bad input.", Double(job.connectionsRejected))
        metric("protocol_violations_total", "counter", "Authenticated peers closed for a RESULT or FAIL they may not send.", Double(job.protocolViolations))
        metric("bytes_sent_total", "counter", "Bytes sent to peers.", Double(job.bytesSent))
        metric("bytes_received_total", "counter", "Bytes received from peers.", Double(job.bytesReceived))
        metric("workers", "gauge", "Workers connected.", Double(workers.count))
        out += "# HELP posecluster_worker_windows_per_second Recent windows per second of one worker.\n# TYPE posecluster_worker_windows_per_second gauge\n"
        for worker in workers {
            out += "posecluster_worker_windows_per_second{worker=\"\(Self.label(worker.name))\",id=\"\(worker.id)\"} \(Self.number(worker.windowsPerSecond))\n"
        }
        out += "# HELP posecluster_worker_in_flight Units held by one worker.\n# TYPE posecluster_worker_in_flight gauge\n"
        for worker in workers {
            out += "posecluster_worker_in_flight{worker=\"\(Self.label(worker.name))\",id=\"\(worker.id)\"} \(worker.inFlight)\n"
        }
        return out
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
    }

    static func label(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func html(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The page at `/`: refreshes itself every 2 s.
    public func htmlPage() -> String {
        var rows = ""
        for worker in workers {
            rows += "<tr><td>\(worker.id)</td><td>\(Self.html(worker.name))</td><td>\(Self.html(worker.peer))</td><td>\(worker.threads)</td><td>\(worker.inFlight)/\(worker.credits)</td><td>\(worker.unitsDone)</td><td>\(String(format: "%.1f", worker.windowsPerSecond))</td></tr>\n"
        }
        var videoRows = ""
        for video in videos {
            videoRows += "<tr><td>\(Self.html(video.name))</td><td>\(video.state)</td><td>\(video.unitsDone)/\(video.units)</td><td>\(video.unitsFailed)</td><td>\(Self.html(video.reason ?? ""))</td></tr>\n"
        }
        return """
        <!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
        <title>posecluster</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}</style></head><body>
        <h1>posecluster: \(job.state)</h1>
        <p>\(summaryLine())</p>
        <p>leases sent \(job.leasesSent), re-leased \(job.unitsReleased), speculative \(job.unitsSpeculative), duplicates \(job.duplicates), failed units \(job.unitsFailed), restored \(job.unitsRestored)</p>
        <h2>Workers (\(workers.count))</h2>
        <table><tr><th>id</th><th>name</th><th>peer</th><th>threads</th><th>in flight/credits</th><th>units</th><th>windows/s</th></tr>
        \(rows)</table>
        <h2>Videos (\(videos.count))</h2>
        <table><tr><th>video</th><th>state</th><th>units</th><th>failed</th><th>reason</th></tr>
        \(videoRows)</table>
        <p><a href="/status">/status</a> · <a href="/metrics">/metrics</a></p></body></html>
        """
    }

    /// One line: videos, units, windows/s, ETA, workers.
    public func summaryLine() -> String {
        var line = "videos \(job.videosDone)/\(job.videos)"
        if job.videosFailed > 0 { line += " (\(job.videosFailed) failed)" }
        line += ", units \(job.unitsAccepted)/\(job.units)"
        if job.unitsRestored > 0 { line += " (\(job.unitsRestored) restored)" }
        if job.unitsFailed > 0 { line += " (\(job.unitsFailed) failed)" }
        line += ", windows \(job.windowsDone)/\(job.windows), \(String(format: "%.1f", job.windowsPerSecond)) windows/s"
        if let eta = job.etaSeconds { line += ", ETA \(Self.duration(eta))" }
        line += ", \(workers.count) workers"
        return line
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total >= 3600 { return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m" }
        if total >= 60 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total)s"
    }

    /// What `posecoord status` prints.
    public func terminalText() -> String {
        var text = "posecluster \(job.state), \(Self.duration(job.elapsedSeconds)) elapsed\n\(summaryLine())\n"
        text += "leases sent \(job.leasesSent), in flight \(job.unitsLeased), re-leased \(job.unitsReleased), speculative \(job.unitsSpeculative), duplicates \(job.duplicates), failed \(job.unitsFailed), restored \(job.unitsRestored)\n"
        if !workers.isEmpty {
            text += "\nworkers:\n"
            for worker in workers {
                text += "  #\(worker.id) \(worker.name) \(worker.peer) threads \(worker.threads) in flight \(worker.inFlight)/\(worker.credits) units \(worker.unitsDone) \(String(format: "%.1f", worker.windowsPerSecond)) windows/s\n"
            }
        }
        let notable = videos.filter { $0.state != "done" }
        if !notable.isEmpty {
            text += "\nvideos not done:\n"
            for video in notable.prefix(50) {
                text += "  \(video.name): \(video.state) \(video.unitsDone)/\(video.units)" + (video.reason.map { " (\($0))" } ?? "") + "\n"
            }
            if notable.count > 50 { text += "  ... \(notable.count - 50) more\n" }
        }
        return text
    }
}
