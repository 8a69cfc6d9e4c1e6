// `posecoord serve`: the coordinator. One event-loop thread owns every connection, the
// scheduler state machine, the journal and the per-video results; the producer thread feeds
// it cropped units. Sockets only carry out what the scheduler decides.
//
// Order of durability: a RESULT is checked, the scheduler accepts it, its record is appended
// to the journal, and only after the journal is fsynced does anything that depends on it
// leave the process (a video's output file, the job report).
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PoseCore
import PoseCrypto
import PoseWire
import PoseSchedule
import PoseArchive
import PoseTensor

public struct CoordinatorConfig: Sendable {
    public var archiveOptions: ArchiveOptions
    public var outDirectory: String
    public var stateDirectory: String
    public var listen: Endpoint
    public var http: Endpoint?
    /// The weights file's bytes, sent to workers that lack them.
    public var weights: [UInt8]
    public var model: ModelDescriptor
    public var token: [UInt8]?
    /// Keep serving and rescan the archive every this many ms; nil: finish when the archive is done.
    public var watchIntervalMs: Int?
    public var limits = ClusterLimits()
    public var scheduler = SchedulerLimits()
    public var wire = WireLimits()
    /// Extra text that identifies the job in the journal (options that change the outputs).
    public var fingerprintExtra: String = ""
    /// Videos decoded and cropped at once.
    public var producerLanes = 2
    /// Serve /metrics without the token on a non-loopback --http address (a scraper without a bearer token).
    public var metricsPublic = false
    /// True when no weights file was given (seeded random weights): the status page warns.
    public var randomWeights = false
    /// Recorded in the job report and every output file.
    public var provenance: Provenance?

    public init(archiveOptions: ArchiveOptions, outDirectory: String, stateDirectory: String, listen: Endpoint,
                http: Endpoint?, weights: [UInt8], model: ModelDescriptor, token: [UInt8]?, watchIntervalMs: Int?) {
        self.archiveOptions = archiveOptions; self.outDirectory = outDirectory; self.stateDirectory = stateDirectory
        self.listen = listen; self.http = http; self.weights = weights; self.model = model; self.token = token
        self.watchIntervalMs = watchIntervalMs
    }

    /// What must match for a journal to be resumed.
    var fingerprint: String {
        "posecluster-journal/1 weights=\(model.sha256.hex) family=\(model.family) shape=\(model.inputShape.width)x\(model.inputShape.height)x\(model.inputShape.frames)x\(model.inputShape.joints) \(archiveOptions.planFingerprint) precision=\(model.precision) \(fingerprintExtra)"
    }
}

public struct CoordinatorError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public final class Coordinator: @unchecked Sendable {
    let config: CoordinatorConfig
    let loop: EventLoop
    let log: @Sendable (String) -> Void
    private var scheduler: Scheduler
    private let journal: Journal
    private var lockFD: Int32 = -1
    private var producer: UnitProducer!
    private var listener: Listener!
    private var httpServer: HTTPServer?
    /// The last progress line printed (an unchanged line is not printed again).
    private var lastProgressLine = ""
    private var startMs: UInt64

    // Peers.
    private var sessions: [Int32: PeerSession] = [:]
    private var workersByID: [WorkerID: PeerSession] = [:]
    private var nextSessionID: UInt64 = 1

    // Videos and units.
    private struct VideoState {
        var entry: VideoEntry
        var results: VideoResults?
        /// Set when the whole video failed (plan or decode): no output file.
        var failure: String?
        var done = false
        var unitsRestored = 0
        /// Kernel classes of the workers whose results were accepted (the job report's record).
        var kernelClasses: Set<String> = []
    }
    private var videos: [Int: VideoState] = [:]
    private var unitPayloads: [PoseSchedule.UnitID: (windows: Int, payload: UnitPayload)] = [:]
    private var pendingResults: [LeaseID: [WindowKeypoints]] = [:]
    private var permitsOutstanding = 0
    /// What the journal holds per video: accepted and failed units, and the kernel classes that computed them.
    private struct RestoredVideo {
        var accepted: [Int: [WindowKeypoints]] = [:]
        var failed: [Int: String] = [:]
        var kernelClasses: Set<String> = []
    }
    private var restored: [String: RestoredVideo] = [:]
    private var reports: [Int: VideoReport] = [:]
    private var producerExhausted = false
    private var jobCompleted = false
    private var exitCode: Int32 = 0
    private var lastJobReportWriteMs: UInt64 = 0
    /// What the archive scan set aside, for the job report.
    private var skippedEntries: [SkippedEntry] = []

    // Statistics.
    private var status = ClusterStatus.Job()
    private var recentWindows: [(ms: UInt64, windows: Int)] = []
    private var windowsKnown = 0
    /// Videos the scans found, with windows estimated from their detection files until planned.
    private var found: [Int: (name: String, windows: Int)] = [:]
    private var windowsEstimatedUnplanned = 0
    /// Per worker name (`--name`): counters that survive reconnects, for /metrics.
    private var workerTotals: [String: ClusterStatus.WorkerTotals] = [:]
    /// When each unit was leased to each worker, for the unit latency histogram.
    private var leasedAtMs: [PoseSchedule.UnitID: [WorkerID: UInt64]] = [:]
    private var unitLatency = ClusterStatus.Histogram(upperBounds: ClusterStatus.Histogram.unitLatencyBounds)
    private let processStartTime = Date().timeIntervalSince1970
    private var restoredAccepted = 0
    private var restoredWindows = 0
    private var firstLeaseMs: UInt64?
    private var lastHeartbeatMs: UInt64 = 0
    private var jobReportDirty = false
    private var heartbeatSequence: UInt64 = 0
    private var windowsDone = 0
    private var unitsKnown = 0
    private var closedBytesSent: UInt64 = 0
    private var closedBytesReceived: UInt64 = 0

    public private(set) var boundPort: UInt16 = 0
    public private(set) var httpPort: UInt16?

    public init(config: CoordinatorConfig, log: @escaping @Sendable (String) -> Void) throws {
        try config.limits.validate()
        try config.wire.validate()
        do { try config.scheduler.validate() } catch { throw CoordinatorError("\(error)") }
        self.config = config
        self.log = log
        loop = EventLoop()
        startMs = loop.nowMs
        scheduler = Scheduler(limits: config.scheduler, now: Int64(startMs))
        scheduler.checksInvariants = ProcessInfo.processInfo.environment["POSECLUSTER_CHECK_INVARIANTS"] == "1"
        try FileManager.default.createDirectory(atPath: config.outDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: config.stateDirectory, withIntermediateDirectories: true)
        lockFD = open(config.stateDirectory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockFD >= 0, flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            throw CoordinatorError("another coordinator is using the state folder \(config.stateDirectory) (or it cannot be locked)")
        }
        let (journal, replay) = try Journal.open(path: config.stateDirectory + "/journal.log")
        self.journal = journal
        if !replay.damaged.isEmpty {
            log("journal: \(replay.damagedBytes) damaged bytes in \(replay.damaged.count) place(s) (first at byte \(replay.damaged[0].lowerBound)) with valid records after them: this is corruption (disk or a stray write), not a crash. The file as it was is kept at \(replay.damagedCopyPath ?? "?"); \(replay.records.count) records verify and are kept, \(replay.recoveredAfterDamage) of them after the damage; the units of the damaged records will be computed again")
        }
        if replay.truncatedBytes > 0 {
            log("journal: cut \(replay.truncatedBytes) bytes of torn tail (an incomplete last record: the write a crash interrupted)")
        }
        try restore(replay.records)
    }

    deinit { if lockFD >= 0 { close(lockFD) } }

    private func restore(_ records: [[UInt8]]) throws {
        guard let first = records.first else {
            try journal.append(JournalRecord.job(fingerprint: config.fingerprint).encoded())
            try journal.sync()
            return
        }
        guard case .job(let fingerprint)? = try? JournalRecord.decode(first) else {
            throw CoordinatorError("the journal in \(config.stateDirectory) does not start with a job record; remove the folder to start over")
        }
        guard fingerprint == config.fingerprint else {
            throw CoordinatorError("the state folder \(config.stateDirectory) belongs to another job (\(fingerprint)); this one is (\(config.fingerprint)). Use another --state or remove it to start over")
        }
        var accepted = 0, failed = 0
        for bytes in records.dropFirst() {
            let record: JournalRecord
            do { record = try JournalRecord.decode(bytes) } catch {
                throw CoordinatorError("journal \(journal.path): a record passed its checksum but does not decode: \(error)")
            }
            switch record {
            case .job: break
            case .accepted(let video, let unit, let keypoints, let kernelClass):
                if restored[video, default: RestoredVideo()].accepted.updateValue(keypoints, forKey: unit) == nil { accepted += 1 }
                if let kernelClass { restored[video]!.kernelClasses.insert(kernelClass) }
            case .failed(let video, let unit, let reason):
                if restored[video, default: RestoredVideo()].failed.updateValue(reason, forKey: unit) == nil { failed += 1 }
            }
        }
        if accepted + failed > 0 {
            log("resuming: \(accepted) accepted and \(failed) failed units in the journal will not be redone")
        }
    }

    /// Binds, starts the producer, and runs until the job is complete (or forever with --watch).
    /// Returns the exit code.
    public func run() throws -> Int32 {
        checkDescriptorLimit()
        let socket = try Socket.listen(on: config.listen)
        boundPort = socket.localPort
        listener = Listener(socket: socket, clock: loop.clock, onAccept: { [unowned self] in self.accept($0) },
                            onError: { [log] in log("accept: \($0)") })
        loop.register(listener)
        if let endpoint = config.http {
            // On loopback everything is open (this machine can read far more than the page). Elsewhere the
            // page and /status need the token; /metrics too unless the operator opened it (--metrics-public).
            var access = HTTPAccess.open
            if !endpoint.isLoopback {
                access = HTTPAccess(token: config.token, openPaths: config.metricsPublic ? ["/healthz", "/metrics"] : ["/healthz"])
                if config.token == nil {
                    log("warning: the status page on \(endpoint) has no cluster token to check: anyone who can reach it sees video names, worker names and addresses. Bind --http to 127.0.0.1 or set a token.")
                }
            }
            let server = try HTTPServer(endpoint: endpoint, loop: loop, access: access, log: log) { [unowned self] path in self.http(path) }
            httpServer = server
            httpPort = server.port
        }
        if !config.listen.isLoopback && config.token == nil {
            log("warning: listening on \(config.listen) without a cluster token: anyone who can reach this port can join and read the crops. Set --token-file or \(ClusterToken.environmentVariable).")
        }
        log("listening on \(config.listen.host):\(boundPort)" + (httpPort.map { ", status on http://\(config.http!.host):\($0)/" } ?? "")
            + ", model \(config.model.variant) \(config.model.sha256.hex.prefix(12)), state \(config.stateDirectory)")
        let skipping = restored.mapValues { Set($0.accepted.keys).union($0.failed.keys) }
        producer = UnitProducer(options: config.archiveOptions, inputShape: config.model.inputShape,
                                watchIntervalMs: config.watchIntervalMs, lanes: config.producerLanes, skipping: skipping) { [loop, unowned self] event in
            loop.execute { self.producerEvent(event) }
        }
        loop.every(200) { [unowned self] in self.tick() }
        loop.every(20) { [unowned self] in self.syncJournal() }
        loop.every(config.limits.progressIntervalMs) { [unowned self] in self.progress() }
        grantPermits()
        producer.start()
        installSignalHandlers()
        loop.run()
        producer.stop()
        journal.close()
        return exitCode
    }

    /// Descriptors needed besides peer connections: listeners, HTTP connections, journal, lock,
    /// the producer's ffmpeg pipes, the listener's spare.
    static let descriptorsReserved = HTTPServer.connectionsMax + 64

    /// Peer connections allowed at once: connectionsMax, or fewer when the descriptor limit cannot
    /// hold them beside `descriptorsReserved`, so that peers never take the descriptors the journal,
    /// the producer's decoders and the status page need (set by `checkDescriptorLimit`).
    private var peersMax = 0

    /// connectionsMax peers need that many descriptors and more: raise the soft RLIMIT_NOFILE up to
    /// the hard one if needed, and lower the peer cap when even that is too low (docs/CLUSTER.md, Limits).
    private func checkDescriptorLimit() {
        peersMax = config.limits.connectionsMax
        let needed = rlim_t(config.limits.connectionsMax + Coordinator.descriptorsReserved)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < needed else { return }
        var raised = limit
        raised.rlim_cur = min(needed, limit.rlim_max)
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        if limit.rlim_cur < needed {
            peersMax = max(1, Int(limit.rlim_cur) - Coordinator.descriptorsReserved)
            log("warning: the descriptor limit is \(limit.rlim_cur) (hard \(limit.rlim_max)); --max-connections \(config.limits.connectionsMax) needs \(needed), so at most \(peersMax) peers are accepted. Raise LimitNOFILE (ulimit -n) or lower --max-connections")
        }
    }

    /// Refusals since the last log line about them (one line per `Listener.errorLogIntervalMs`).
    private var refusalsUnlogged = 0
    private var lastRefusalLogMs: UInt64?

    private var signalSources: [DispatchSourceSignal] = []

    private func installSignalHandlers() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [loop, unowned self] in
                loop.execute { self.shutdown(signal: signalNumber) }
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Stopped by a signal: what is journalled stays; a restart with the same arguments resumes.
    private func shutdown(signal: Int32) {
        syncJournal()
        FileHandleOutput.endProgress()
        log("stopped by signal \(signal): \(scheduler.counters.accepted + scheduler.counters.unitsRestored) units are journalled; start again with the same arguments to resume")
        exitCode = 128 + signal
        for session in sessions.values { session.connection.close(reason: "coordinator stopping") }
        loop.stop()
    }

    // MARK: - Scheduler plumbing

    private var nowMs: Int64 { Int64(loop.nowMs) }

    /// Events observed while actions are carried out (a UNIT whose send fails closes its session,
    /// and that close is `.workerLeft`) wait here until the batch they interrupted is done.
    private let events = EventFeed<SchedulerEvent>()

    private func feed(_ event: SchedulerEvent) {
        events.feed(event) { event in
            let actions = scheduler.handle(event, now: nowMs)
            for action in actions { perform(action) }
        }
        guard !events.isHandling else { return }
        grantPermits()
        if checksInvariants { invariants() }
    }

    /// Run `invariants()` (and the scheduler's) after every event: tests set POSECLUSTER_CHECK_INVARIANTS=1.
    let checksInvariants = ProcessInfo.processInfo.environment["POSECLUSTER_CHECK_INVARIANTS"] == "1"

    /// The coordinator's own bookkeeping agrees with itself and with the scheduler.
    func invariants() {
        precondition(permitsOutstanding >= 0, "more units produced than permitted: \(permitsOutstanding)")
        precondition(unitPayloads.count == scheduler.queuedCount + scheduler.leasedCount,
                     "\(unitPayloads.count) unit payloads kept, scheduler has \(scheduler.queuedCount) queued + \(scheduler.leasedCount) leased")
        precondition(unitPayloads.count <= config.scheduler.unitsQueuedMax + scheduler.inFlightCount,
                     "\(unitPayloads.count) payloads exceed unitsQueuedMax + in flight: memory must follow the in-flight window")
        precondition(pendingResults.isEmpty, "results left unjudged: \(pendingResults.count)")
        for (fd, session) in sessions {
            precondition(session.connection.fd == fd && !session.connection.isClosed, "session \(session.id) on a closed or moved fd")
        }
        for (id, session) in workersByID {
            precondition(session.workerID == id && session.state == .worker && sessions[session.connection.fd] === session,
                         "worker \(id) not a live worker session")
        }
        for (index, video) in videos where video.done {
            precondition(video.results == nil && reports[index] != nil, "video \(index) done without its report, or still holding results")
        }
    }

    private func grantPermits() {
        let wanted = scheduler.unitsWanted - permitsOutstanding
        if wanted > 0, let producer {
            permitsOutstanding += wanted
            producer.grant(wanted)
        }
    }

    private func perform(_ action: SchedulerAction) {
        switch action {
        case .lease(let unit, let worker, let lease, let deadline, let speculative):
            guard let stored = unitPayloads[unit], let video = videos[unit.video] else {
                preconditionFailure("lease of \(unit) to \(worker) without its payload")
            }
            guard let session = workersByID[worker] else {
                // Its session closed while this batch was carried out (an earlier UNIT's send
                // failed): the scheduler hears of it next, from the `.workerLeft` waiting in
                // `events`, and puts this unit back.
                precondition(events.isWaiting { $0 == .workerLeft(worker, graceful: false) || $0 == .workerLeft(worker, graceful: true) },
                             "lease of \(unit) to \(worker), whose session is gone and whose departure the scheduler will not hear")
                return
            }
            let message = PoseWire.Unit(
                id: PoseWire.UnitID(videoIndex: UInt32(unit.video), videoName: video.entry.name, unitIndex: UInt32(unit.index)),
                leaseID: lease.rawValue, leaseDurationMs: UInt32(clamping: max(1, deadline - nowMs)),
                inputShape: config.model.inputShape, windowCount: stored.windows, crops: stored.payload)
            session.send(.unit(message))
            leasedAtMs[unit, default: [:]][worker] = loop.nowMs
            session.leasesReceived += 1
            if firstLeaseMs == nil { firstLeaseMs = loop.nowMs }
            _ = speculative
        case .accept(let unit, let worker, let lease):
            guard let keypoints = pendingResults.removeValue(forKey: lease) else {
                preconditionFailure("accept of \(unit) without its pending result")
            }
            accept(unit, keypoints: keypoints, from: worker)
        case .drop(_, _, let lease, _):
            pendingResults[lease] = nil
        case .markFailed(let unit, let reason):
            unitPayloads[unit] = nil
            guard var video = videos[unit.video] else { return }
            log("unit \(video.entry.name)#\(unit.index) failed: \(reason)")
            _ = video.results?.fail(unitIndex: unit.index, reason: reason)
            videos[unit.video] = video
            appendJournal(.failed(video: video.entry.name, unit: unit.index, reason: reason))
        case .videoComplete(let index):
            completeVideo(index)
        case .jobComplete:
            completeJob()
        case .disconnect(let worker, let reason):
            // REJECT, not BYE: the worker may reconnect (a stalled worker that wakes up is welcome back).
            if let session = workersByID.removeValue(forKey: worker) {
                log("worker \(session.describe) disconnected: \(reason)")
                session.sendAndClose(.reject(Reject(code: .other, reason: String(reason.prefix(1000)))), reason: reason)
            }
        case .workerDrained(let worker):
            if let session = workersByID[worker] {
                session.sendAndClose(.bye(Bye(reason: "drained")), reason: "drained")
            }
        }
    }

    private func accept(_ unit: PoseSchedule.UnitID, keypoints: [WindowKeypoints], from worker: WorkerID) {
        unitPayloads[unit] = nil
        guard var video = videos[unit.video] else { preconditionFailure("accept for unknown video \(unit.video)") }
        do {
            try video.results?.accept(unitIndex: unit.index, keypoints: keypoints)
        } catch {
            preconditionFailure("a result checked before acceptance was refused: \(error)")
        }
        let kernelClass = workersByID[worker].map { ClusterModel.kernelClass(kernels: $0.hello?.kernels ?? "", precision: config.model.precision) }
        if let kernelClass { video.kernelClasses.insert(kernelClass) }
        videos[unit.video] = video
        appendJournal(.accepted(video: video.entry.name, unit: unit.index, keypoints: keypoints, kernelClass: kernelClass))
        windowsDone += keypoints.count
        recentWindows.append((loop.nowMs, keypoints.count))
        if let leased = leasedAtMs.removeValue(forKey: unit)?[worker] {
            unitLatency.observe(Double(loop.nowMs - leased) / 1000)
        }
        if let session = workersByID[worker] {
            session.unitsDone += 1
            session.windowsDone += keypoints.count
            session.recent.append((loop.nowMs, keypoints.count))
            if let name = session.hello?.name {
                workerTotals[name]?.unitsDone += 1
                workerTotals[name]?.windowsDone += keypoints.count
            }
        }
    }

    private func appendJournal(_ record: JournalRecord) {
        do {
            try journal.append(record.encoded())
        } catch {
            fatal("cannot write the journal: \(error)")
        }
    }

    private func syncJournal() {
        do { try journal.sync() } catch { fatal("cannot sync the journal: \(error)") }
    }

    /// A coordinator that cannot journal must not go on accepting work it cannot remember.
    private func fatal(_ message: String) -> Never {
        FileHandleOutput.endProgress()
        log("fatal: \(message)")
        exit(1)
    }

    private func completeVideo(_ index: Int) {
        guard var video = videos[index] else { preconditionFailure("completion of unknown video \(index)") }
        syncJournal()
        video.done = true
        if let failure = video.failure {
            reports[index] = VideoReport.failed(video.entry, reason: failure)
            log("video \(video.entry.name) failed: \(failure)")
        } else if let results = video.results {
            do {
                try results.write(to: config.outDirectory)
                var report = VideoReport.done(results)
                report.seconds = [:]
                report.kernelClasses = video.kernelClasses.sorted()
                reports[index] = report
            } catch {
                reports[index] = VideoReport.failed(video.entry, reason: "cannot write the output: \(error)")
                log("video \(video.entry.name): cannot write the output: \(error)")
            }
        }
        // The video's keypoints are on disk now; keep only what /status shows.
        video.results = video.results.map { VideoResults(plan: $0.plan) }
        videoSummaries[index] = summary(of: video, index: index)
        video.results = nil
        videos[index] = video
        // A watching coordinator never finishes: its job report is rewritten as videos complete (at most every 5 s).
        if config.watchIntervalMs != nil { jobReportDirty = true }
    }

    private var videoSummaries: [Int: ClusterStatus.Video] = [:]

    private func summary(of video: VideoState, index: Int) -> ClusterStatus.Video {
        let report = reports[index]
        let units = report?.counts.units ?? video.results?.plan.units.count ?? 0
        let failedUnits = report?.unitsFailed ?? video.results?.failed.count ?? 0
        let state = video.failure != nil ? "failed" : video.done ? "done" : (video.results?.accepted.isEmpty ?? true) ? "pending" : "running"
        let doneUnits = video.done ? units - failedUnits : (video.results?.accepted.count ?? 0)
        return ClusterStatus.Video(name: video.entry.name, state: state, units: units, unitsDone: doneUnits,
                                   unitsFailed: failedUnits, reason: video.failure ?? report?.reason)
    }

    @discardableResult
    private func writeJobReport() -> JobReport {
        var report = JobReport(videos: reports.keys.sorted().map { reports[$0]! }, provenance: config.provenance)
        report.skipped = skippedEntries
        report.seconds = Double(loop.nowMs - startMs) / 1000
        do {
            try report.write(to: config.outDirectory)
        } catch {
            log("cannot write \(JobReport.path(in: config.outDirectory)): \(error)")
        }
        lastJobReportWriteMs = loop.nowMs
        return report
    }

    private func completeJob() {
        guard !jobCompleted else { return }
        jobCompleted = true
        syncJournal()
        let report = writeJobReport()
        FileHandleOutput.endProgress()
        progress()
        FileHandleOutput.endProgress()
        let seconds = String(format: "%.1f", Double(loop.nowMs - startMs) / 1000)
        if report.succeeded {
            log("job done in \(seconds) s: \(report.summary); outputs in \(config.outDirectory)")
            exitCode = 0
        } else {
            log("job finished with failures in \(seconds) s: \(report.summary); see \(JobReport.path(in: config.outDirectory))")
            exitCode = 1
        }
        let c = scheduler.counters
        log("units: \(unitsKnown) planned, \(c.accepted) accepted, \(c.unitsRestored) restored, \(c.unitsFailed) failed; leases \(c.leasesGranted), re-leased \(c.releases), speculative \(c.speculativeLeases), duplicates \(c.duplicatesDropped)")
        if let first = firstLeaseMs, loop.nowMs > first {
            let span = Double(loop.nowMs - first) / 1000
            let windows = windowsDone - restoredWindows
            log(String(format: "throughput: %d windows in %.2f s from the first lease: %.1f windows/s, %.1f units/s",
                       windows, span, Double(windows) / span, Double(c.accepted) / span))
        }
        producer.stop()
        for session in Array(sessions.values) {
            session.sendAndClose(.bye(Bye(reason: "job complete")), reason: "job complete")
        }
        // Give the BYEs a moment to leave, then stop.
        let deadline = loop.nowMs + 2_000
        loop.every(20) { [unowned self] in
            if self.sessions.isEmpty || self.loop.nowMs >= deadline { self.loop.stop() }
        }
    }

    // MARK: - Producer events

    private func producerEvent(_ event: ProducerEvent) {
        switch event {
        case .found(let videos):
            for video in videos {
                found[video.index] = (video.name, video.windows)
                windowsEstimatedUnplanned += video.windows
            }
        case .planned(let index, let plan):
            windowsEstimatedUnplanned -= found[index]?.windows ?? 0
            var video = VideoState(entry: plan.entry, results: VideoResults(plan: plan, provenance: config.provenance))
            for warning in plan.warnings { log("\(plan.entry.name): \(warning)") }
            var restoredEvents: [SchedulerEvent] = []
            if let done = restored.removeValue(forKey: plan.entry.name) {
                for (unit, keypoints) in done.accepted.sorted(by: { $0.key < $1.key }) {
                    do {
                        try video.results!.accept(unitIndex: unit, keypoints: keypoints)
                        restoredEvents.append(.restoreAccepted(PoseSchedule.UnitID(video: index, index: unit)))
                        windowsDone += keypoints.count
                        restoredWindows += keypoints.count
                        restoredAccepted += 1
                    } catch {
                        log("journal: ignoring the record of \(plan.entry.name)#\(unit): \(error)")
                    }
                }
                for (unit, reason) in done.failed.sorted(by: { $0.key < $1.key }) where unit < plan.units.count {
                    if video.results!.fail(unitIndex: unit, reason: reason) {
                        restoredEvents.append(.restoreFailed(PoseSchedule.UnitID(video: index, index: unit), reason: reason))
                    }
                }
                video.unitsRestored = restoredEvents.count
                video.kernelClasses.formUnion(done.kernelClasses)
            }
            videos[index] = video
            unitsKnown += plan.units.count
            windowsKnown += plan.windowCount
            for restoredEvent in restoredEvents { feed(restoredEvent) }
            feed(.videoPlanned(video: index, units: plan.units.count))
        case .planFailed(let index, let entry, let reason):
            windowsEstimatedUnplanned -= found[index]?.windows ?? 0
            videos[index] = VideoState(entry: entry, results: nil, failure: reason)
            feed(.videoPlanned(video: index, units: 0))
        case .unit(let index, let unitIndex, let windows, let payload, _):
            permitsOutstanding -= 1
            let unit = PoseSchedule.UnitID(video: index, index: unitIndex)
            unitPayloads[unit] = (windows, payload)
            feed(.unitAvailable(unit))
        case .streamFailed(let index, let emitted, let reason):
            guard var video = videos[index], let plan = video.results?.plan else { return }
            video.failure = reason
            videos[index] = video
            // The units that will never come are settled now so the video can complete.
            let skipped = Set(video.results!.accepted.keys).union(video.results!.failed.keys)
            for unit in plan.units.indices where !emitted.contains(unit) && !skipped.contains(unit) {
                feed(.restoreFailed(PoseSchedule.UnitID(video: index, index: unit), reason: reason))
            }
        case .exhausted:
            if config.watchIntervalMs == nil && !producerExhausted {
                producerExhausted = true
                feed(.archiveExhausted)
            }
        case .scanFailed(let reason):
            log("cannot scan the archive: \(reason)")
            exitCode = 1
            loop.stop()
        case .skipped(let entries):
            for entry in entries { log("scan: \(entry.path): \(entry.reason)") }
            skippedEntries = entries
        }
    }

    // MARK: - Connections

    private func accept(_ socket: Socket) {
        guard sessions.count < peersMax else {
            status.connectionsRejected += 1
            refusalsUnlogged += 1
            if lastRefusalLogMs.map({ loop.nowMs - $0 >= Listener.errorLogIntervalMs }) ?? true {
                log("refused \(socket.peer)\(refusalsUnlogged > 1 ? " and \(refusalsUnlogged - 1) more since the last report" : ""): \(peersMax) peer connections open (connectionsMax \(config.limits.connectionsMax), descriptor limit)")
                lastRefusalLogMs = loop.nowMs
                refusalsUnlogged = 0
            }
            if let frame = try? WireMessage.reject(Reject(code: .tooManyPeers, reason: "too many connections")).encode() {
                _ = frame.withUnsafeBytes { try? socket.write($0) }
            }
            socket.close()
            return
        }
        let connection = ByteConnection(socket: socket, loop: loop, outboundBytesMax: config.limits.outboundBytesMax)
        let session = PeerSession(id: nextSessionID, connection: connection, limits: config.wire,
                                  deadline: loop.nowMs + UInt64(config.limits.handshakeTimeoutMs), connectedMs: loop.nowMs)
        nextSessionID += 1
        sessions[connection.fd] = session
        let fd = connection.fd
        connection.onBytes = { [unowned self, unowned session] bytes in self.received(bytes, on: session) }
        connection.onClose = { [unowned self, unowned session] reason in self.closed(session, fd: fd, reason: reason) }
        loop.register(connection)
    }

    private func received(_ bytes: UnsafeRawBufferPointer, on session: PeerSession) {
        session.decoder.feed(bytes)
        if session.isAuthenticated { session.refillInflation(now: loop.nowMs, limits: config.limits) }
        // Before it has proved anything, a peer may not make us hold more than a handshake's bytes.
        if !session.isAuthenticated, session.decoder.bufferedByteCount > config.limits.handshakeBytesMax {
            refuse(session, code: .malformed,
                   reason: "\(session.decoder.bufferedByteCount) bytes before the handshake finished (handshakeBytesMax \(config.limits.handshakeBytesMax))")
            return
        }
        while !session.connection.isClosed {
            let message: WireMessage?
            do {
                message = try session.decoder.next()
            } catch {
                // 1 for another protocol, 2 for another version (the worker stops on those), 4 otherwise.
                refuse(session, code: (error as? WireError)?.rejectCode ?? .malformed, reason: "\(error)")
                return
            }
            guard let message else { return }
            handle(message, from: session)
        }
    }

    /// Closes a peer for bad input, with a REJECT that says why and a log line.
    private func refuse(_ session: PeerSession, code: RejectCode, reason: String) {
        status.connectionsRejected += 1
        log("closed \(session.describe): \(reason)")
        session.sendAndClose(.reject(Reject(code: code, reason: String(reason.prefix(1000)))), reason: reason)
    }

    private func closed(_ session: PeerSession, fd: Int32, reason: String) {
        sessions[fd] = nil
        closedBytesSent += session.connection.bytesSent
        closedBytesReceived += session.connection.bytesReceived
        guard let worker = session.workerID else { return }
        let graceful = session.saidBye
        if workersByID.removeValue(forKey: worker) != nil {
            if !jobCompleted { log("worker \(session.describe) left: \(reason)") }
            feed(.workerLeft(worker, graceful: graceful))
        }
        // Results that arrived but were not yet judged go with it.
        _ = session
    }

    private func handle(_ message: WireMessage, from session: PeerSession) {
        switch session.state {
        case .awaitingHello:
            guard case .hello(let hello) = message else {
                refuse(session, code: .unexpectedMessage, reason: "expected HELLO first, got \(message.type)")
                return
            }
            session.hello = hello
            let nonce = randomBytes(WireProtocol.nonceByteCount)
            session.challengeNonce = nonce
            session.state = .awaitingAuth
            session.send(.challenge(Challenge(nonce: nonce, authRequired: config.token != nil)))
        case .awaitingAuth:
            guard case .auth(let auth) = message, let hello = session.hello else {
                refuse(session, code: .unexpectedMessage, reason: "expected AUTH, got \(message.type)")
                return
            }
            var proof = HandshakeProof.none
            if let token = config.token {
                let expected = HandshakeProof.peer(token: token, role: hello.role, name: hello.name,
                                                   challengeNonce: session.challengeNonce, helloNonce: hello.nonce)
                guard HandshakeProof.verify(auth.proof, expected: expected) else {
                    refuse(session, code: .authenticationFailed, reason: "authentication failed for \"\(hello.name)\": wrong cluster token")
                    return
                }
                proof = HandshakeProof.coordinator(token: token, sessionID: session.id,
                                                   challengeNonce: session.challengeNonce, helloNonce: hello.nonce)
            }
            session.send(.welcome(Welcome(
                sessionID: session.id, heartbeatIntervalMs: UInt32(config.scheduler.heartbeatIntervalMs),
                leaseDurationMs: UInt32(clamping: config.scheduler.leaseDurationMs), model: config.model,
                frameBytesMax: UInt32(config.wire.frameBytesMax),
                unitsInFlightMax: UInt32(config.scheduler.creditsPerWorkerMax),
                modelChunkBytes: UInt32(config.limits.modelChunkBytes), proof: proof)))
            // Compressed frames only from a peer that proved it holds the token, and then at a bounded rate.
            session.inflationRefilledMs = loop.nowMs
            session.decoder.inflationBytesAllowed = config.limits.inflatedBytesBurstMax
            if hello.role == .statusClient {
                session.state = .statusClient
                return
            }
            session.state = .worker
            let worker = WorkerID(session.id)
            session.workerID = worker
            workersByID[worker] = session
            workerTotals[hello.name, default: ClusterStatus.WorkerTotals(name: hello.name)].connections += 1
            log("worker \(session.describe) joined (\(hello.threads) threads\(hello.cachedModel == config.model.sha256 ? "" : ", needs the model"))")
            feed(.workerJoined(worker, credits: 0))
        case .statusClient:
            switch message {
            case .statusRequest:
                session.send(.status(StatusReport(json: String(decoding: snapshot().json(), as: UTF8.self))))
            case .bye:
                session.connection.close(reason: "status client done")
            case .heartbeat:
                break
            default:
                refuse(session, code: .unexpectedMessage, reason: "status client sent \(message.type)")
            }
        case .worker:
            handleWorker(message, from: session)
        }
    }

    private func handleWorker(_ message: WireMessage, from session: PeerSession) {
        guard let worker = session.workerID else { return }
        switch message {
        case .heartbeat:
            feed(.heartbeat(worker))
        case .credit(let credit):
            // PROTOCOL.md: the coordinator keeps at most min(units, unitsInFlightMax) leased.
            session.credits = min(Int(credit.units), config.scheduler.creditsPerWorkerMax)
            feed(.credit(worker, credits: session.credits))
        case .modelRequest(let request):
            guard request.sha256 == config.model.sha256, request.offset <= UInt64(config.weights.count) else {
                refuse(session, code: .unexpectedMessage, reason: "asked for model \(request.sha256.hex.prefix(12)) at \(request.offset); this job's is \(config.model.sha256.hex.prefix(12)) (\(config.weights.count) bytes)")
                return
            }
            feed(.heartbeat(worker))
            streamModel(to: session, from: Int(request.offset))
        case .result(let result):
            feed(.heartbeat(worker))
            guard let unit = heldUnit(result.id, lease: result.leaseID, from: session, message: "RESULT") else { return }
            if let problem = problemWithResult(result, unit: unit) {
                violation(session, "RESULT for \(result.id) under lease \(result.leaseID): \(problem)")
                return
            }
            pendingResults[LeaseID(result.leaseID)] = result.windows
            feed(.result(worker, unit, LeaseID(result.leaseID)))
            pendingResults[LeaseID(result.leaseID)] = nil
        case .fail(let failure):
            feed(.heartbeat(worker))
            guard let unit = heldUnit(failure.id, lease: failure.leaseID, from: session, message: "FAIL") else { return }
            status.workerFailures += 1
            if let name = session.hello?.name { workerTotals[name]?.failures += 1 }
            log("worker \(session.describe) failed \(failure.id): \(failure.reason)")
            feed(.failure(worker, unit, LeaseID(failure.leaseID), reason: failure.reason))
        case .drain(let drain):
            log("worker \(session.describe) drains: \(drain.reason)")
            feed(.drain(worker))
        case .bye(let bye):
            session.saidBye = true
            session.connection.close(reason: "said BYE (\(bye.reason))")
        case .statusRequest:
            session.send(.status(StatusReport(json: String(decoding: snapshot().json(), as: UTF8.self))))
        case .reject(let reject):
            session.connection.close(reason: "the worker gave up on the connection: \(reject.reason)")
        default:
            refuse(session, code: .unexpectedMessage, reason: "unexpected \(message.type) from a worker")
        }
    }

    /// The scheduler's name for the unit a RESULT or FAIL answers for, if this session holds that
    /// lease; otherwise the session is closed as a protocol violation and nil returned. An honest
    /// worker answers only for UNITs it received on this connection (it drops its work on a
    /// reconnect), and the scheduler keeps a lease with its worker until answered.
    private func heldUnit(_ id: PoseWire.UnitID, lease: UInt64, from session: PeerSession, message: String) -> PoseSchedule.UnitID? {
        let unit = PoseSchedule.UnitID(video: Int(id.videoIndex), index: Int(id.unitIndex))
        guard let worker = session.workerID, let video = videos[unit.video], video.entry.name == id.videoName,
              scheduler.holds(LeaseID(lease), of: unit, by: worker) else {
            violation(session, "\(message) for \(id) under lease \(lease), which this session does not hold")
            return nil
        }
        return unit
    }

    /// Closes an authenticated peer that broke the protocol; counted in /metrics (protocol_violations_total).
    private func violation(_ session: PeerSession, _ reason: String) {
        status.protocolViolations += 1
        refuse(session, code: .unexpectedMessage, reason: "protocol violation: \(reason)")
    }

    /// What is wrong with a RESULT's shape or values, or nil. The bounds come from the model's
    /// input shape (ResultBounds), so every model family is checked by the same rule.
    private func problemWithResult(_ result: UnitResult, unit: PoseSchedule.UnitID) -> String? {
        guard let plan = videos[unit.video]?.results?.plan else { return nil }
        guard plan.units.indices.contains(unit.index) else { return "unit \(unit.index) does not exist" }
        let expected = plan.units[unit.index].windows.count
        guard result.windows.count == expected else { return "\(result.windows.count) windows, expected \(expected)" }
        let bounds = ResultBounds(shape: plan.inputShape)
        for (w, window) in result.windows.enumerated() {
            if let problem = bounds.problem(with: window) { return "window \(w): \(problem)" }
        }
        return nil
    }

    private func streamModel(to session: PeerSession, from offset: Int) {
        session.modelOffset = offset
        let chunk = config.limits.modelChunkBytes
        let connection = session.connection
        connection.sendQueueLowBytes = 2 * chunk
        connection.onSendQueueLow = { [unowned self, unowned session] in
            while let start = session.modelOffset, !session.connection.isClosed,
                  session.connection.outboundBytes < 2 * chunk {
                let end = min(self.config.weights.count, start + chunk)
                session.modelOffset = end < self.config.weights.count ? end : nil
                session.send(.modelChunk(ModelChunk(sha256: self.config.model.sha256, offset: UInt64(start),
                                                    totalByteCount: UInt64(self.config.weights.count),
                                                    bytes: Array(self.config.weights[start..<end]))))
            }
            if session.modelOffset == nil { session.connection.onSendQueueLow = nil }
        }
        connection.pumpSendQueue()
    }

    // MARK: - Time

    private func tick() {
        let now = loop.nowMs
        for session in Array(sessions.values) where !session.isAuthenticated && now > session.handshakeDeadline {
            refuse(session, code: .handshakeTimeout,
                   reason: "handshake not finished within handshakeTimeoutMs (\(config.limits.handshakeTimeoutMs) ms)")
        }
        if now - lastHeartbeatMs >= UInt64(config.scheduler.heartbeatIntervalMs) {
            // Heartbeats go both ways, so a worker notices a coordinator that vanished without a reset.
            lastHeartbeatMs = now
            heartbeatSequence += 1
            for session in sessions.values where session.isAuthenticated && session.connection.outboundBytes == 0 {
                session.send(.heartbeat(Heartbeat(sequence: heartbeatSequence)))
            }
        }
        feed(.tick)
        if jobReportDirty, now - lastJobReportWriteMs >= 5_000 {
            jobReportDirty = false
            writeJobReport()
        }
        let horizon = now > 10_000 ? now - 10_000 : 0
        recentWindows.removeAll { $0.ms < horizon }
        for session in workersByID.values { session.recent.removeAll { $0.ms < horizon } }
    }

    private func progress() {
        // An idle --watch coordinator would repeat the same line every interval: print it once.
        let line = "posecoord: " + snapshot().summaryLine()
        guard line != lastProgressLine else { return }
        lastProgressLine = line
        FileHandleOutput.progress(line)
    }

    // MARK: - Status

    func snapshot() -> ClusterStatus {
        var result = ClusterStatus()
        var job = status
        let counters = scheduler.counters
        let now = loop.nowMs
        let idle = scheduler.queuedCount == 0 && scheduler.inFlightCount == 0 && permitsOutstanding == scheduler.unitsWanted
        job.state = jobCompleted ? (exitCode == 0 ? "done" : "failed") : (config.watchIntervalMs != nil && idle ? "watching" : "running")
        job.elapsedSeconds = Double(now - startMs) / 1000
        job.videos = max(videos.count, found.count)
        job.videosDone = videos.values.filter { $0.done && $0.failure == nil }.count
        job.videosFailed = videos.values.filter { $0.done && $0.failure != nil }.count
        job.units = unitsKnown
        job.unitsAccepted = counters.accepted + restoredAccepted
        job.unitsRestored = counters.unitsRestored
        job.unitsFailed = counters.unitsFailed
        job.unitsLeased = scheduler.inFlightCount
        job.leasesSent = counters.leasesGranted
        job.unitsReleased = counters.releases
        job.unitsSpeculative = counters.speculativeLeases
        job.duplicates = counters.duplicatesDropped
        job.windows = windowsKnown + windowsEstimatedUnplanned
        job.windowsEstimated = videos.count < found.count
        job.processStartTime = processStartTime
        job.windowsDone = windowsDone
        let span = min(10.0, Double(now - startMs) / 1000)
        job.windowsPerSecond = span > 0.5 ? Double(recentWindows.reduce(0) { $0 + $1.windows }) / span : 0
        if job.windowsPerSecond > 0, !jobCompleted {
            job.etaSeconds = Double(max(0, job.windows - windowsDone)) / job.windowsPerSecond
        }
        job.bytesSent = closedBytesSent + sessions.values.reduce(0) { $0 + $1.connection.bytesSent }
        job.bytesReceived = closedBytesReceived + sessions.values.reduce(0) { $0 + $1.connection.bytesReceived }
        result.job = job
        let inFlight = Dictionary(uniqueKeysWithValues: scheduler.workerSnapshots().map { ($0.id, $0) })
        result.workers = workersByID.keys.sorted().map { id in
            let session = workersByID[id]!
            let seconds = min(10.0, Double(now - session.connectedMs) / 1000)
            return ClusterStatus.Worker(
                id: id.rawValue, name: session.hello?.name ?? "?", peer: session.connection.peer,
                threads: Int(session.hello?.threads ?? 0), credits: inFlight[id]?.credits ?? session.credits,
                inFlight: inFlight[id]?.inFlight ?? 0, unitsDone: session.unitsDone, windowsDone: session.windowsDone,
                windowsPerSecond: seconds > 0.5 ? Double(session.recent.reduce(0) { $0 + $1.windows }) / seconds : 0,
                connectedSeconds: Double(now - session.connectedMs) / 1000, kernels: session.hello?.kernels ?? "")
        }
        result.videos = Set(videos.keys).union(found.keys).sorted().map { index in
            if let video = videos[index] { return videoSummaries[index] ?? summary(of: video, index: index) }
            return ClusterStatus.Video(name: found[index]!.name, state: "pending", units: 0, unitsDone: 0, unitsFailed: 0)
        }
        result.build.version = BuildInfo.current.version
        result.build.commit = BuildInfo.current.commit
        result.build.kernels = KernelISA.active.rawValue
        result.build.modelFamily = config.model.family
        result.build.modelVariant = config.model.variant
        result.build.modelSHA256 = config.model.sha256.hex
        result.build.modelBytes = config.model.byteCount
        result.build.randomWeights = config.randomWeights
        result.build.precision = config.model.precision
        let connectedNames = Set(result.workers.map(\.name))
        result.workerTotals = workerTotals.keys.sorted().map { name in
            var totals = workerTotals[name]!
            totals.connected = connectedNames.contains(name)
            return totals
        }
        result.unitLatency = unitLatency
        return result
    }

    private func http(_ target: String) -> HTTPResponse {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? "/"
        let page = parts.count > 1 ? parts[1].split(separator: "&").compactMap { item -> Int? in
            item.hasPrefix("page=") ? Int(item.dropFirst(5)) : nil
        }.first ?? 1 : 1
        switch path {
        case "/status":
            return HTTPResponse(status: 200, contentType: "application/json", body: snapshot().json())
        case "/metrics":
            return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(snapshot().prometheus().utf8))
        case "/healthz":
            return .text(200, "ok\n")
        case "/", "/index.html":
            return HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: Array(snapshot().htmlPage(page: page).utf8))
        default:
            return .text(404, "not found: \(path) (try /, /status, /metrics)\n")
        }
    }
}

/// One peer connection as the coordinator sees it.
final class PeerSession {
    enum State { case awaitingHello, awaitingAuth, worker, statusClient }
    let id: UInt64
    let connection: ByteConnection
    var decoder: FrameDecoder
    var state = State.awaitingHello
    let handshakeDeadline: UInt64
    let connectedMs: UInt64
    let wire: WireLimits
    var hello: Hello?
    var challengeNonce: [UInt8] = []
    var workerID: WorkerID?
    var credits = 0
    var saidBye = false
    var modelOffset: Int?
    var unitsDone = 0
    var windowsDone = 0
    var leasesReceived = 0
    var recent: [(ms: UInt64, windows: Int)] = []

    /// When `decoder.inflationBytesAllowed` was last topped up.
    var inflationRefilledMs: UInt64 = 0

    init(id: UInt64, connection: ByteConnection, limits: WireLimits, deadline: UInt64, connectedMs: UInt64) {
        self.id = id; self.connection = connection; self.wire = limits
        self.decoder = FrameDecoder(limits: limits)
        // Before authentication nothing may make us inflate: a 2 KB zstd frame can declare 60 MiB.
        decoder.inflationBytesAllowed = 0
        self.handshakeDeadline = deadline; self.connectedMs = connectedMs
    }

    var isAuthenticated: Bool { state == .worker || state == .statusClient }

    /// Tops up what zstd frames may inflate to: `inflatedBytesPerSecondMax`, at most `inflatedBytesBurstMax` banked.
    func refillInflation(now: UInt64, limits: ClusterLimits) {
        let elapsed = now - inflationRefilledMs
        guard elapsed > 0, let allowed = decoder.inflationBytesAllowed else { return }
        inflationRefilledMs = now
        let earned = Int(min(elapsed, 60_000)) * limits.inflatedBytesPerSecondMax / 1000
        decoder.inflationBytesAllowed = min(limits.inflatedBytesBurstMax, allowed + earned)
    }

    var describe: String { "#\(id) \(hello?.name ?? "?") (\(connection.peer))" }

    func send(_ message: WireMessage) {
        do {
            connection.send(try message.encode(limits: wire))
        } catch {
            preconditionFailure("cannot encode \(message.type): \(error)")
        }
    }

    func sendAndClose(_ message: WireMessage, reason: String) {
        send(message)
        connection.closeAfterFlush(reason: reason)
    }
}

/// Random bytes for nonces (SystemRandomNumberGenerator reads the kernel's getrandom).
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}
