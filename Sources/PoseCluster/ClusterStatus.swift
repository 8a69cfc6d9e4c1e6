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
        /// Windows in the job: planned videos' exact counts plus, for videos not planned yet,
        /// their detection files' boxes above the threshold (`windowsEstimated` until all are planned).
        public var windows = 0
        public var windowsEstimated = false
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
        /// When the coordinator process started (seconds since 1970).
        public var processStartTime: Double = 0
        public init() {}
    }

    /// What this coordinator is: its build and the model it serves.
    public struct Build: Codable, Sendable, Equatable {
        public var version = ""
        public var commit = ""
        /// The kernel variant (`avx512bf16`, ...).
        public var kernels = ""
        public var modelFamily = ""
        public var modelVariant = ""
        public var modelSHA256 = ""
        public var modelBytes: UInt64 = 0
        /// True when no --weights was given: seeded random weights, meaningless keypoints.
        public var randomWeights = false
        public var precision = "fp32"
        public init() {}
    }

    /// One worker identity (`--name`), over all its connections: counters that survive reconnects.
    public struct WorkerTotals: Codable, Sendable, Equatable {
        public var name: String
        public var connected = false
        public var connections = 0
        public var unitsDone = 0
        public var windowsDone = 0
        public var failures = 0
        public init(name: String) { self.name = name }
    }

    /// A Prometheus-style histogram: counts per bucket (not cumulative), sum and count.
    public struct Histogram: Codable, Sendable, Equatable {
        public var upperBounds: [Double]
        public var counts: [Int]
        public var sum: Double = 0
        public var count = 0
        public init(upperBounds: [Double]) {
            precondition(!upperBounds.isEmpty && zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 }, "bounds must increase")
            self.upperBounds = upperBounds
            counts = [Int](repeating: 0, count: upperBounds.count + 1)
        }
        /// Seconds from a unit's lease to its accepted result.
        public static let unitLatencyBounds: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

        public mutating func observe(_ value: Double) {
            counts[upperBounds.firstIndex { value <= $0 } ?? upperBounds.count] += 1
            sum += value
            count += 1
        }
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
        /// The kernel variant the worker computes with (HELLO's `kernels`: "avx2", "avx512", "amx", ...).
        public var kernels: String
        public init(id: UInt64, name: String, peer: String, threads: Int, credits: Int, inFlight: Int,
                    unitsDone: Int, windowsDone: Int, windowsPerSecond: Double, connectedSeconds: Double, kernels: String = "") {
            self.kernels = kernels
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
    public var build = Build()
    public var workers: [Worker] = []
    /// Every worker name seen, connected or not, by name.
    public var workerTotals: [WorkerTotals] = []
    public var unitLatency = Histogram(upperBounds: Histogram.unitLatencyBounds)
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

    /// Prometheus text exposition format (version 0.0.4). Counters only count; rates are left
    /// to Prometheus (`rate()`), so nothing here depends on when it is scraped.
    public func prometheus() -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func metric(_ name: String, _ type: String, _ help: String, _ value: Double) {
            family("posecluster_" + name, type, help)
            out += "posecluster_\(name) \(Self.number(value))\n"
        }
        family("posecluster_build_info", "gauge", "The coordinator's build and model (always 1).")
        out += "posecluster_build_info{version=\"\(Self.label(build.version))\",commit=\"\(Self.label(build.commit))\",model_sha256=\"\(build.modelSHA256)\",precision=\"\(Self.label(build.precision))\",model_family=\"\(Self.label(build.modelFamily))\",model_variant=\"\(Self.label(build.modelVariant))\",kernels=\"\(Self.label(build.kernels))\",random_weights=\"\(build.randomWeights)\"} 1\n"
        family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.")
        out += "process_start_time_seconds \(String(format: "%.3f", job.processStartTime))\n"
        metric("videos", "gauge", "Videos in the job (fixed once the archive is scanned).", Double(job.videos))
        metric("videos_done", "gauge", "Videos written.", Double(job.videosDone))
        metric("videos_failed", "gauge", "Videos that failed.", Double(job.videosFailed))
        metric("units", "gauge", "Work units planned so far.", Double(job.units))
        metric("units_accepted_total", "counter", "Unit results accepted (exactly once each).", Double(job.unitsAccepted))
        metric("units_restored_total", "counter", "Units restored from the journal at start-up.", Double(job.unitsRestored))
        metric("units_failed_total", "counter", "Units marked failed after the retry cap.", Double(job.unitsFailed))
        metric("units_leased", "gauge", "Leases out now.", Double(job.unitsLeased))
        metric("leases_sent_total", "counter", "UNIT messages sent.", Double(job.leasesSent))
        metric("units_released_total", "counter", "Units leased again after their worker went away or stalled.", Double(job.unitsReleased))
        metric("units_speculative_total", "counter", "Speculative leases of slow units.", Double(job.unitsSpeculative))
        metric("duplicate_results_total", "counter", "Results dropped because the unit was already accepted.", Double(job.duplicates))
        metric("worker_failures_total", "counter", "FAIL messages from workers.", Double(job.workerFailures))
        metric("windows", "gauge", "Windows in the job (estimated from detection files until every video is planned).", Double(job.windows))
        metric("windows_done_total", "counter", "Windows accepted.", Double(job.windowsDone))
        metric("connections_rejected_total", "counter", "Connections refused or closed for bad input.", Double(job.connectionsRejected))
        metric("protocol_violations_total", "counter", "Authenticated peers closed for a RESULT or FAIL they may not send.", Double(job.protocolViolations))
        metric("bytes_sent_total", "counter", "Bytes sent to peers.", Double(job.bytesSent))
        metric("bytes_received_total", "counter", "Bytes received from peers.", Double(job.bytesReceived))
        metric("workers", "gauge", "Workers connected.", Double(workers.count))
        let perWorker: [(String, String, String, (WorkerTotals) -> Int)] = [
            ("worker_units_done_total", "counter", "Units one worker (by --name) computed and had accepted, over all its connections.", \.unitsDone),
            ("worker_windows_done_total", "counter", "Windows one worker (by --name) computed and had accepted.", \.windowsDone),
            ("worker_unit_failures_total", "counter", "FAIL messages from one worker (by --name).", \.failures),
            ("worker_connections_total", "counter", "Connections one worker (by --name) made.", \.connections),
            ("worker_connected", "gauge", "1 while a worker of this name is connected.", { $0.connected ? 1 : 0 }),
        ]
        for (name, type, help, value) in perWorker where !workerTotals.isEmpty {
            family("posecluster_" + name, type, help)
            for worker in workerTotals { out += "posecluster_\(name){worker=\"\(Self.label(worker.name))\"} \(value(worker))\n" }
        }
        if !workers.isEmpty {
            family("posecluster_worker_kernels", "gauge", "1 per connected session, labelled with the kernel variant its worker computes with (HELLO's kernels).")
            for worker in workers {
                out += "posecluster_worker_kernels{worker=\"\(Self.label(worker.name))\",session=\"\(worker.id)\",kernels=\"\(Self.label(worker.kernels))\"} 1\n"
            }
        }
        if !workers.isEmpty {
            family("posecluster_worker_in_flight", "gauge", "Units held by one connected worker.")
            for worker in workers { out += "posecluster_worker_in_flight{worker=\"\(Self.label(worker.name))\",session=\"\(worker.id)\"} \(worker.inFlight)\n" }
        }
        family("posecluster_unit_latency_seconds", "histogram", "Seconds from a unit's lease to its accepted result.")
        var cumulative = 0
        for (index, bound) in unitLatency.upperBounds.enumerated() {
            cumulative += unitLatency.counts[index]
            out += "posecluster_unit_latency_seconds_bucket{le=\"\(bound == bound.rounded() ? String(Int(bound)) : String(bound))\"} \(cumulative)\n"
        }
        out += "posecluster_unit_latency_seconds_bucket{le=\"+Inf\"} \(unitLatency.count)\n"
        out += "posecluster_unit_latency_seconds_sum \(String(format: "%.3f", unitLatency.sum))\n"
        out += "posecluster_unit_latency_seconds_count \(unitLatency.count)\n"
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

    /// Rows of the video table on one page of `/`.
    public static let videosPerPage = 100

    /// The page at `/` (`/?page=N` for later videos): refreshes itself every 2 s. Failed videos
    /// come first, highlighted; the video table is paged so a 100,000-video archive stays small.
    public func htmlPage(page requested: Int = 1) -> String {
        let fraction = job.windows > 0 ? min(1, Double(job.windowsDone) / Double(job.windows)) : (job.state == "done" ? 1 : 0)
        let approximately = job.windowsEstimated ? "about " : ""
        var text = """
        <!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
        <title>posecluster: \(Self.html(job.state))</title><style>
        body{font-family:sans-serif;margin:1.5em 2em;color:#222}table{border-collapse:collapse;margin-bottom:1em}
        td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}th{background:#f4f4f4}
        .bar{width:40em;max-width:100%;height:1.4em;background:#eee;border-radius:4px;overflow:hidden}
        .bar div{height:100%;background:#3a7bd5}.warn{background:#fff3cd;border:2px solid #d39e00;padding:.6em 1em;font-weight:bold}
        tr.failed td{background:#fde2e1;color:#8a1c14}.muted{color:#777}.facts td:first-child{color:#555}
        </style></head><body>
        <h1>posecluster: \(Self.html(job.state))</h1>

        """
        if build.randomWeights {
            text += "<p class=\"warn\">Random weights: this coordinator was started without --weights; the keypoints it writes are meaningless.</p>\n"
        }
        text += "<div class=\"bar\" title=\"\(String(format: "%.1f", fraction * 100))%\"><div style=\"width:\(String(format: "%.2f", fraction * 100))%\"></div></div>\n"
        text += "<p><b>\(String(format: "%.1f", fraction * 100))%</b> of \(approximately)\(job.windows) windows · elapsed \(Self.duration(job.elapsedSeconds))"
        text += " · ETA " + (job.etaSeconds.map { Self.duration($0) } ?? "unknown until results arrive")
        text += " · \(String(format: "%.1f", job.windowsPerSecond)) windows/s</p>\n"
        text += "<p>\(Self.html(summaryLine()))</p>\n"
        text += "<table class=\"facts\">"
        text += "<tr><td>model</td><td>\(Self.html(build.modelFamily)) \(Self.html(build.modelVariant)), SHA-256 \(build.modelSHA256.prefix(12)), \(build.modelBytes / 1_000_000) MB, \(Self.html(build.precision))\(build.randomWeights ? " <b>(random weights)</b>" : "")</td></tr>"
        text += "<tr><td>build</td><td>posecluster \(Self.html(build.version)), commit \(Self.html(build.commit)), kernels \(Self.html(build.kernels))</td></tr>"
        text += "<tr><td>units</td><td>leases sent \(job.leasesSent), in flight \(job.unitsLeased), re-leased \(job.unitsReleased), speculative \(job.unitsSpeculative), duplicates \(job.duplicates), failed \(job.unitsFailed), restored \(job.unitsRestored)</td></tr></table>\n"
        text += "<h2>Workers (\(workers.count) connected)</h2>\n<table><tr><th>session</th><th>name</th><th>peer</th><th>threads</th><th>kernels</th><th>in flight/credits</th><th>units</th><th>windows/s</th></tr>\n"
        for worker in workers {
            text += "<tr><td>\(worker.id)</td><td>\(Self.html(worker.name))</td><td>\(Self.html(worker.peer))</td><td>\(worker.threads)</td><td>\(Self.html(worker.kernels))</td><td>\(worker.inFlight)/\(worker.credits)</td><td>\(worker.unitsDone)</td><td>\(String(format: "%.1f", worker.windowsPerSecond))</td></tr>\n"
        }
        text += "</table>\n"
        // Failed videos first, then the rest in archive order.
        let ordered = videos.filter { $0.state == "failed" } + videos.filter { $0.state != "failed" }
        let pages = max(1, (ordered.count + Self.videosPerPage - 1) / Self.videosPerPage)
        let page = min(max(1, requested), pages)
        let shown = ordered.dropFirst((page - 1) * Self.videosPerPage).prefix(Self.videosPerPage)
        text += "<h2>Videos (\(job.videos); \(job.videosDone) done, \(job.videosFailed) failed)</h2>\n"
        if pages > 1 {
            text += "<p>page \(page) of \(pages)"
            if page > 1 { text += " · <a href=\"/?page=\(page - 1)\">previous</a>" }
            if page < pages { text += " · <a href=\"/?page=\(page + 1)\">next</a>" }
            text += "</p>\n"
        }
        text += "<table><tr><th>video</th><th>state</th><th>units</th><th>failed units</th><th>reason</th></tr>\n"
        for video in shown {
            text += "<tr\(video.state == "failed" ? " class=\"failed\"" : "")><td>\(Self.html(video.name))</td><td>\(video.state)</td><td>\(video.unitsDone)/\(video.units)</td><td>\(video.unitsFailed)</td><td>\(Self.html(video.reason ?? ""))</td></tr>\n"
        }
        text += "</table>\n<p class=\"muted\"><a href=\"/status\">/status</a> · <a href=\"/metrics\">/metrics</a></p></body></html>\n"
        return text
    }

    /// One line: videos, units, windows/s, ETA, workers.
    public func summaryLine() -> String {
        var line = "videos \(job.videosDone)/\(job.videos)"
        if job.videosFailed > 0 { line += " (\(job.videosFailed) failed)" }
        line += ", units \(job.unitsAccepted)/\(job.units)"
        if job.unitsRestored > 0 { line += " (\(job.unitsRestored) restored)" }
        if job.unitsFailed > 0 { line += " (\(job.unitsFailed) failed)" }
        line += ", windows \(job.windowsDone)/\(job.windowsEstimated ? "~" : "")\(job.windows), \(String(format: "%.1f", job.windowsPerSecond)) windows/s"
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
        text += "model \(build.modelFamily) \(build.modelVariant) \(build.modelSHA256.prefix(12)) \(build.precision)\(build.randomWeights ? " (RANDOM WEIGHTS: meaningless keypoints)" : "")\n"
        text += "leases sent \(job.leasesSent), in flight \(job.unitsLeased), re-leased \(job.unitsReleased), speculative \(job.unitsSpeculative), duplicates \(job.duplicates), failed \(job.unitsFailed), restored \(job.unitsRestored)\n"
        if !workers.isEmpty {
            text += "\nworkers:\n"
            for worker in workers {
                text += "  #\(worker.id) \(worker.name) \(worker.peer) threads \(worker.threads) kernels \(worker.kernels) in flight \(worker.inFlight)/\(worker.credits) units \(worker.unitsDone) \(String(format: "%.1f", worker.windowsPerSecond)) windows/s\n"
            }
        }
        let notable = videos.filter { $0.state == "failed" } + videos.filter { $0.state != "done" && $0.state != "failed" }
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
