// `poseworker join`: a cluster worker. The event loop thread speaks the protocol (handshake,
// model download into the cache, credits, heartbeats, units in, results out, reconnects with
// capped exponential backoff); the compute thread runs the model on batches of windows.
// SIGTERM drains: no new units, finish the ones held, BYE, exit 0.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PoseCore
import PoseCrypto
import PoseWire

public struct WorkerConfig: Sendable {
    public var coordinator: Endpoint
    public var name: String
    public var threads: Int
    /// Units held at once (advertised as CREDIT); at least 2 keeps the model busy between units.
    public var credits: Int
    /// Windows per model call.
    public var batchWindows: Int
    public var token: [UInt8]?
    public var cacheDirectory: String
    /// Null model: sleep this long per unit instead of computing.
    public var nullServiceMs: Int?
    /// Test hook: abort when a unit of this video and index arrives (`POSECLUSTER_TEST_POISON=video:unit`).
    public var poison: (video: String, unit: Int)?
    /// Give up after this many failed connection attempts in a row (nil: never).
    public var connectAttemptsMax: Int?
    public var limits = ClusterLimits()
    public var wire = WireLimits()

    public init(coordinator: Endpoint, name: String, threads: Int, credits: Int, batchWindows: Int, token: [UInt8]?,
                cacheDirectory: String, nullServiceMs: Int?) {
        self.coordinator = coordinator; self.name = name; self.threads = threads; self.credits = credits
        self.batchWindows = batchWindows; self.token = token; self.cacheDirectory = cacheDirectory
        self.nullServiceMs = nullServiceMs
    }
}

/// Builds an estimator from the weights file's bytes (the engine) in the job's precision ("fp32",
/// "bf16": ModelDescriptor.precision), for a worker.
public typealias EstimatorFactory = @Sendable (_ weights: [UInt8], _ threads: Int, _ batchWindows: Int, _ precision: String) throws -> any PoseEstimator

public final class Worker: @unchecked Sendable {
    let config: WorkerConfig
    let loop = EventLoop()
    let log: @Sendable (String) -> Void
    private let makeEstimator: EstimatorFactory
    private var compute: ComputeQueue!

    private enum State { case disconnected, awaitingChallenge, awaitingWelcome, downloading, ready }
    private var state = State.disconnected
    private var connection: ByteConnection?
    private var decoder: FrameDecoder
    private var helloNonce: [UInt8] = []
    private var challengeNonce: [UInt8] = []
    private var welcome: Welcome?
    private var generation: UInt64 = 0
    private var download: [UInt8] = []
    private var estimator: (sha: SHA256Digest, precision: String, value: any PoseEstimator)?
    private var weightsBytes: [UInt8]?
    /// Units held: token -> (connection generation, unit, lease).
    private var held: [UInt64: (generation: UInt64, id: PoseWire.UnitID, lease: UInt64, windows: Int)] = [:]
    private var nextToken: UInt64 = 1
    private var heartbeatSequence: UInt64 = 0
    private var failedAttempts = 0
    private var reconnectAtMs: UInt64 = 0
    private var draining = false
    private var finished = false
    private var exitCode: Int32 = 0
    private let startMs: UInt64
    private var unitsDone = 0
    private var windowsDone = 0
    private var computeMs = 0.0
    private var recent: [(ms: UInt64, windows: Int)] = []

    public init(config: WorkerConfig, makeEstimator: @escaping EstimatorFactory, log: @escaping @Sendable (String) -> Void) throws {
        try config.limits.validate()
        try config.wire.validate()
        self.config = config
        self.makeEstimator = makeEstimator
        self.log = log
        decoder = FrameDecoder(limits: config.wire)
        startMs = loop.nowMs
    }

    /// Connects (again and again) until the coordinator says BYE or SIGTERM drains us. Returns the exit code.
    public func run() -> Int32 {
        let estimatorBox = EstimatorBox()
        compute = ComputeQueue(batchWindowsMax: config.batchWindows, nullServiceMs: config.nullServiceMs,
                               makeEstimator: { _ in
                                   guard let estimator = estimatorBox.value else { throw ComputeError("no model loaded") }
                                   return estimator
                               },
                               deliver: { [loop, unowned self] outcome in loop.execute { self.computed(outcome) } })
        self.estimatorBox = estimatorBox
        installSignalHandlers()
        loop.every(100) { [unowned self] in self.tick() }
        loop.every(5_000) { [unowned self] in self.progress() }
        connect()
        loop.run()
        compute.stop()
        return exitCode
    }

    private var estimatorBox: EstimatorBox!
    private var signalSources: [DispatchSourceSignal] = []
    private var lastHeartbeatMs: UInt64 = 0
    /// Last time anything came from the coordinator (it sends heartbeats too).
    private var lastHeardMs: UInt64 = 0

    private func installSignalHandlers() {
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [loop, unowned self] in loop.execute { self.beginDrain(signal: signalNumber) } }
            source.resume()
            signalSources.append(source)
        }
    }

    // MARK: - Connection

    private func connect() {
        guard !finished else { return }
        do {
            let socket = try Socket.connect(to: config.coordinator, timeoutMs: 2_000)
            let connection = ByteConnection(socket: socket, loop: loop, outboundBytesMax: config.limits.outboundBytesMax)
            generation += 1
            let thisGeneration = generation
            connection.onBytes = { [unowned self] bytes in self.received(bytes, generation: thisGeneration) }
            connection.onClose = { [unowned self] reason in self.disconnected(reason: reason, generation: thisGeneration) }
            loop.register(connection)
            self.connection = connection
            lastHeardMs = loop.nowMs
            decoder = FrameDecoder(limits: config.wire)
            helloNonce = randomBytes(WireProtocol.nonceByteCount)
            state = .awaitingChallenge
            handshakeDeadline = loop.nowMs + UInt64(config.limits.handshakeTimeoutMs)
            send(.hello(Hello(role: .worker, name: config.name, threads: UInt32(config.threads),
                              cachedModel: estimator?.sha ?? newestCachedModel(), capabilities: .all, nonce: helloNonce,
                              kernels: ClusterModel.kernels)))
        } catch {
            scheduleReconnect(reason: "\(error)")
        }
    }

    private var handshakeDeadline: UInt64 = 0

    private func scheduleReconnect(reason: String) {
        failedAttempts += 1
        if let most = config.connectAttemptsMax, failedAttempts >= most {
            log("giving up after \(failedAttempts) attempts to reach \(config.coordinator): \(reason)")
            exitCode = 1
            finish()
            return
        }
        // Capped exponential backoff with jitter, so a restarted coordinator is not hit by every worker at once.
        let exponent = min(failedAttempts - 1, 16)
        let base = min(config.limits.reconnectDelayMaxMs, config.limits.reconnectDelayMinMs << exponent)
        let delay = base / 2 + Int.random(in: 0...max(1, base / 2))
        if failedAttempts == 1 || failedAttempts % 10 == 0 {
            log("no connection to \(config.coordinator) (\(reason)); retrying in \(delay) ms")
        }
        reconnectAtMs = loop.nowMs + UInt64(delay)
        state = .disconnected
    }

    private func disconnected(reason: String, generation closedGeneration: UInt64) {
        guard closedGeneration == generation else { return }
        connection = nil
        let wasReady = state == .ready
        state = .disconnected
        // Units of a lost connection are leased again elsewhere; do not compute them for nothing.
        for token in compute.discardQueued() { held[token] = nil }
        if finished { return }
        if draining {
            log("connection lost while draining (\(reason)); exiting")
            finish()
            return
        }
        if wasReady { failedAttempts = 0 }
        log("disconnected from \(config.coordinator): \(reason)")
        scheduleReconnect(reason: reason)
    }

    private func send(_ message: WireMessage) {
        guard let connection else { return }
        do {
            connection.send(try message.encode(limits: config.wire))
        } catch {
            preconditionFailure("cannot encode \(message.type): \(error)")
        }
    }

    private func protocolError(_ reason: String) {
        log("closing the connection: \(reason)")
        if let connection { send(.reject(Reject(code: .malformed, reason: String(reason.prefix(1000))))); connection.closeAfterFlush(reason: reason) }
    }

    private func received(_ bytes: UnsafeRawBufferPointer, generation thisGeneration: UInt64) {
        guard thisGeneration == generation else { return }
        lastHeardMs = loop.nowMs
        decoder.feed(bytes)
        while let connection = self.connection, !connection.isClosed, thisGeneration == generation {
            let message: WireMessage?
            do { message = try decoder.next() } catch {
                if let wire = error as? WireError, wire.rejectCode == .versionMismatch || wire.rejectCode == .badMagic {
                    // Another version or not a coordinator at all: reconnecting cannot fix it.
                    log("cannot work with \(config.coordinator): \(wire)")
                    send(.reject(Reject(code: wire.rejectCode, reason: String("\(wire)".prefix(1000)))))
                    exitCode = 1
                    finish()
                    return
                }
                protocolError("bad frame from the coordinator: \(error)")
                return
            }
            guard let message else { return }
            handle(message)
        }
    }

    private func handle(_ message: WireMessage) {
        switch (state, message) {
        case (_, .reject(let reject)):
            log("the coordinator refused us: \(reject.code): \(reject.reason)")
            if reject.code == .authenticationFailed || reject.code == .versionMismatch || reject.code == .badMagic {
                // Retrying cannot fix a wrong token, another protocol version or another protocol.
                exitCode = 1
                finish()
            } else {
                connection?.close(reason: "rejected")
            }
        case (_, .bye(let bye)):
            log("the coordinator said goodbye: \(bye.reason)")
            finish()
        case (.awaitingChallenge, .challenge(let challenge)):
            challengeNonce = challenge.nonce
            if challenge.authRequired && config.token == nil {
                log("the coordinator requires a cluster token; set --token-file or \(ClusterToken.environmentVariable)")
                exitCode = 1
                finish()
                return
            }
            let proof = config.token.map {
                HandshakeProof.peer(token: $0, role: .worker, name: config.name, challengeNonce: challenge.nonce, helloNonce: helloNonce)
            } ?? HandshakeProof.none
            state = .awaitingWelcome
            send(.auth(Auth(proof: proof)))
        case (.awaitingWelcome, .welcome(let welcome)):
            if let token = config.token {
                let expected = HandshakeProof.coordinator(token: token, sessionID: welcome.sessionID,
                                                          challengeNonce: challengeNonce, helloNonce: helloNonce)
                guard HandshakeProof.verify(welcome.proof, expected: expected) else {
                    protocolError("the coordinator could not prove it knows the cluster token")
                    return
                }
            }
            self.welcome = welcome
            failedAttempts = 0
            log("joined \(config.coordinator) as session \(welcome.sessionID), model \(welcome.model.variant) \(welcome.model.sha256.hex.prefix(12))")
            if (estimator?.sha == welcome.model.sha256 && estimator?.precision == welcome.model.precision) || config.nullServiceMs != nil {
                ready()
                return
            }
            // Reading, hashing and loading a large model take seconds: off the loop thread, so
            // heartbeats keep going and the coordinator does not count us as lost.
            state = .downloading
            let model = welcome.model
            let thisGeneration = generation
            DispatchQueue.global().async { [loop, unowned self] in
                let cached = self.readCachedModel(model.sha256)
                loop.execute {
                    guard thisGeneration == self.generation, self.state == .downloading else { return }
                    if let cached {
                        self.loadModel(cached, sha: model.sha256, precision: model.precision)
                    } else {
                        self.download = []
                        self.download.reserveCapacity(Int(model.byteCount))
                        self.log("fetching the model (\(model.byteCount) bytes)")
                        self.send(.modelRequest(ModelRequest(sha256: model.sha256, offset: 0)))
                    }
                }
            }
        case (.downloading, .modelChunk(let chunk)):
            guard let model = welcome?.model, chunk.sha256 == model.sha256, chunk.offset == UInt64(download.count),
                  chunk.totalByteCount == model.byteCount else {
                protocolError("unexpected MODEL_CHUNK at \(chunk.offset) (have \(download.count) bytes)")
                return
            }
            download += chunk.bytes
            if chunk.isLast {
                let bytes = download
                download = []
                let thisGeneration = generation
                DispatchQueue.global().async { [loop, unowned self] in
                    let digest = SHA256.hash(bytes)
                    if digest == model.sha256 { self.storeCachedModel(bytes, sha: digest) }
                    loop.execute {
                        guard thisGeneration == self.generation else { return }
                        guard digest == model.sha256 else {
                            self.protocolError("the model received hashes to \(digest.hex.prefix(12)), expected \(model.sha256.hex.prefix(12))")
                            return
                        }
                        self.loadModel(bytes, sha: digest, precision: model.precision)
                    }
                }
            }
        case (.ready, .unit(let unit)):
            received(unit)
        case (_, .heartbeat):
            break
        case (.ready, .drain(let drain)):
            log("the coordinator asks us to drain: \(drain.reason)")
            beginDrain(signal: nil)
        case (_, .status):
            break
        default:
            protocolError("unexpected \(message.type) in state \(state)")
        }
    }

    /// Builds the estimator on another thread, then goes ready on the loop thread.
    private func loadModel(_ bytes: [UInt8], sha: SHA256Digest, precision: String) {
        let thisGeneration = generation
        let (makeEstimator, threads, batch) = (self.makeEstimator, config.threads, config.batchWindows)
        let expectedFamily = welcome?.model.family
        DispatchQueue.global().async { [loop, unowned self] in
            let start = Date()
            let family = ModelFamily.of(safetensors: bytes).rawValue
            let result = Result {
                // The coordinator names the family; bytes of another one are not the job's model.
                guard expectedFamily == nil || family == expectedFamily else {
                    throw ModelFileError(path: "the model \(sha.hex.prefix(12))", reason: "holds a \(family) model, but the coordinator runs \(expectedFamily!)")
                }
                return try makeEstimator(bytes, threads, batch, precision)
            }
            let seconds = Date().timeIntervalSince(start)
            loop.execute {
                switch result {
                case .success(let value):
                    self.estimator = (sha, precision, value)
                    self.estimatorBox.value = value
                    self.log("model loaded in \(String(format: "%.2f", seconds)) s")
                    if thisGeneration == self.generation, self.state == .downloading { self.ready() }
                case .failure(let error):
                    self.log("cannot load the model \(sha.hex.prefix(12)): \(error)")
                    self.exitCode = 1
                    self.finish()
                }
            }
        }
    }

    private func ready() {
        state = .ready
        let cap = Int(welcome?.unitsInFlightMax ?? UInt32(config.credits))
        send(.credit(Credit(units: UInt32(min(config.credits, cap)))))
        if draining { send(.drain(Drain(reason: "worker stopping"))) }
    }

    private func received(_ unit: PoseWire.Unit) {
        if let poison = config.poison, poison.video == unit.id.videoName, poison.unit == Int(unit.id.unitIndex) {
            log("test hook POSECLUSTER_TEST_POISON: aborting on \(unit.id)")
            abort()
        }
        var crops: [UInt8] = []
        do {
            // A null worker measures the coordinator: it does not spend the shared CPU on decoding.
            if config.nullServiceMs == nil {
                crops = try unit.crops.decode(windows: unit.windowCount, shape: unit.inputShape, limits: config.wire)
            }
        } catch {
            send(.fail(UnitFailure(id: unit.id, leaseID: unit.leaseID, reason: "cannot decode the crops: \(error)")))
            return
        }
        let token = nextToken
        nextToken += 1
        held[token] = (generation, unit.id, unit.leaseID, unit.windowCount)
        compute.submit(ComputeJob(token: token, windows: unit.windowCount, shape: unit.inputShape, crops: crops))
    }

    private func computed(_ outcome: ComputeOutcome) {
        guard let unit = held.removeValue(forKey: outcome.token) else { return }
        defer { checkDrained() }
        guard unit.generation == generation, state == .ready else { return }
        switch outcome.result {
        case .success(let windows):
            unitsDone += 1
            windowsDone += windows.count
            computeMs += outcome.computeMs
            recent.append((loop.nowMs, windows.count))
            send(.result(UnitResult(id: unit.id, leaseID: unit.lease, windows: windows,
                                    computeMicros: UInt64(max(0, outcome.computeMs * 1000)))))
        case .failure(let error):
            log("unit \(unit.id) failed: \(error)")
            send(.fail(UnitFailure(id: unit.id, leaseID: unit.lease, reason: error.description)))
        }
    }

    // MARK: - Draining and time

    private func beginDrain(signal: Int32?) {
        guard !draining else {
            if signal != nil { log("second signal: exiting now"); exitCode = 1; finish() }
            return
        }
        draining = true
        if state != .ready {
            log("stopping (not connected)")
            finish()
            return
        }
        log("draining: finishing \(held.count) units, taking no new ones")
        send(.drain(Drain(reason: "worker stopping")))
        checkDrained()
    }

    private func checkDrained() {
        guard draining, !finished, held.values.allSatisfy({ $0.generation != generation }) else { return }
        log("drained: \(unitsDone) units done; goodbye")
        send(.bye(Bye(reason: "drained")))
        finish()
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        FileHandleOutput.endProgress()
        if let connection {
            connection.closeAfterFlush(reason: "worker done")
            // Let the last frames leave before the loop stops.
            let deadline = loop.nowMs + 2_000
            loop.every(10) { [unowned self] in
                if connection.isClosed || self.loop.nowMs >= deadline { self.loop.stop() }
            }
        } else {
            loop.stop()
        }
    }

    private func tick() {
        let now = loop.nowMs
        if state == .disconnected && !finished && now >= reconnectAtMs { connect(); return }
        if state == .awaitingChallenge || state == .awaitingWelcome, now > handshakeDeadline {
            connection?.close(reason: "handshake not finished within \(config.limits.handshakeTimeoutMs) ms")
            return
        }
        let interval = UInt64(welcome?.heartbeatIntervalMs ?? UInt32(config.limits.heartbeatIntervalMs))
        let silence = max(UInt64(config.limits.peerSilenceMaxMs), 5 * interval)
        if state == .ready || state == .downloading, now - lastHeardMs > silence {
            connection?.close(reason: "the coordinator was silent for \(now - lastHeardMs) ms")
            return
        }
        if state == .ready || state == .downloading, now - lastHeartbeatMs >= interval {
            heartbeatSequence += 1
            lastHeartbeatMs = now
            send(.heartbeat(Heartbeat(sequence: heartbeatSequence)))
        }
        recent.removeAll { now - $0.ms > 10_000 }
    }

    private func progress() {
        guard !finished else { return }
        let seconds = min(10.0, Double(loop.nowMs - startMs) / 1000)
        let rate = seconds > 0 ? Double(recent.reduce(0) { $0 + $1.windows }) / seconds : 0
        FileHandleOutput.progress("poseworker \(config.name): \(state == .ready ? "working" : "\(state)"), units \(unitsDone), windows \(windowsDone), \(String(format: "%.1f", rate)) windows/s, holding \(held.count)")
    }

    // MARK: - Model cache

    private func cachePath(_ sha: SHA256Digest) -> String { config.cacheDirectory + "/" + sha.hex + ".safetensors" }

    private func readCachedModel(_ sha: SHA256Digest) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: cachePath(sha)) else { return nil }
        let bytes = [UInt8](data)
        guard SHA256.hash(bytes) == sha else {
            log("cached model \(cachePath(sha)) does not match its hash; fetching it again")
            try? FileManager.default.removeItem(atPath: cachePath(sha))
            return nil
        }
        return bytes
    }

    private func storeCachedModel(_ bytes: [UInt8], sha: SHA256Digest) {
        do {
            try FileManager.default.createDirectory(atPath: config.cacheDirectory, withIntermediateDirectories: true)
            try AtomicFile.write(bytes, to: cachePath(sha))
        } catch {
            log("cannot cache the model in \(config.cacheDirectory): \(error) (continuing without a cache)")
        }
    }

    private func newestCachedModel() -> SHA256Digest? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: config.cacheDirectory) else { return nil }
        let candidates = names.filter { $0.hasSuffix(".safetensors") }.compactMap { name -> (Date, SHA256Digest)? in
            guard let digest = SHA256Digest(hex: String(name.dropLast(".safetensors".count))),
                  let attributes = try? FileManager.default.attributesOfItem(atPath: config.cacheDirectory + "/" + name),
                  let date = attributes[.modificationDate] as? Date else { return nil }
            return (date, digest)
        }
        return candidates.max { $0.0 < $1.0 }?.1
    }
}

/// The loaded model, shared with the compute thread (set once per model, before any unit).
final class EstimatorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any PoseEstimator)?
    var value: (any PoseEstimator)? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
