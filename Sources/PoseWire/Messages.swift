// The messages of the cluster protocol: one struct per message, each with its
// payload encoder and a decoder that checks every field (docs/PROTOCOL.md is
// the reference for numbers and layouts). Message numbers are never reused.
import PoseCore
import PoseCrypto

/// Message numbers. A retired number stays retired; new messages take new numbers.
public enum MessageType: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case hello = 1
    case challenge = 2
    case auth = 3
    case welcome = 4
    case reject = 5
    case heartbeat = 6
    case credit = 7
    case modelRequest = 8
    case modelChunk = 9
    case unit = 10
    case result = 11
    case fail = 12
    case drain = 13
    case bye = 14
    case statusRequest = 15
    case status = 16

    public var description: String {
        switch self {
        case .hello: return "HELLO"
        case .challenge: return "CHALLENGE"
        case .auth: return "AUTH"
        case .welcome: return "WELCOME"
        case .reject: return "REJECT"
        case .heartbeat: return "HEARTBEAT"
        case .credit: return "CREDIT"
        case .modelRequest: return "MODEL_REQUEST"
        case .modelChunk: return "MODEL_CHUNK"
        case .unit: return "UNIT"
        case .result: return "RESULT"
        case .fail: return "FAIL"
        case .drain: return "DRAIN"
        case .bye: return "BYE"
        case .statusRequest: return "STATUS_REQUEST"
        case .status: return "STATUS"
        }
    }
}

/// Who opens a connection: a worker that takes units, or `posecoord status`.
public enum PeerRole: UInt8, Sendable, CustomStringConvertible {
    case worker = 1
    case statusClient = 2

    public var description: String { self == .worker ? "worker" : "status client" }
}

/// What a worker can decode. Unknown bits are ignored, so new capabilities need no new version.
public struct Capabilities: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Frames with flag bit 0 (zstd-compressed payload).
    public static let zstdFrames = Capabilities(rawValue: 1 << 0)
    /// UNIT crops in the temporal-delta encoding.
    public static let temporalDelta = Capabilities(rawValue: 1 << 1)
    public static let all: Capabilities = [.zstdFrames, .temporalDelta]
}

/// Which unit: a video of the archive and the unit's place in it.
public struct UnitID: Hashable, Sendable, CustomStringConvertible {
    /// Index of the video in the coordinator's sorted archive listing.
    public var videoIndex: UInt32
    /// The video's name (for logs and errors; the index is the key).
    public var videoName: String
    /// Index of the unit within its video.
    public var unitIndex: UInt32

    public init(videoIndex: UInt32, videoName: String, unitIndex: UInt32) {
        self.videoIndex = videoIndex; self.videoName = videoName; self.unitIndex = unitIndex
    }

    public var description: String { "\(videoName)#\(unitIndex)" }
}

// MARK: - Handshake

/// Worker -> coordinator, the first frame. Magic and version lead it in every version.
public struct Hello: Equatable, Sendable {
    public var protocolVersion: UInt16
    public var role: PeerRole
    /// The worker's name (host name by default), for logs and status.
    public var name: String
    /// Threads the worker computes with.
    public var threads: UInt32
    /// SHA-256 of the weights the worker has cached, if any.
    public var cachedModel: SHA256Digest?
    public var capabilities: Capabilities
    /// The worker's 32 random bytes; the coordinator's proof in WELCOME covers them.
    public var nonce: [UInt8]
    /// The kernel variant the worker computes with ("avx2", "avx512", "amx", ...; PoseTensor's
    /// KernelISA), for status and for the job report's kernel class. Empty from a status client.
    public var kernels: String

    public init(protocolVersion: UInt16 = WireProtocol.version, role: PeerRole, name: String, threads: UInt32,
                cachedModel: SHA256Digest?, capabilities: Capabilities, nonce: [UInt8], kernels: String = "") {
        self.protocolVersion = protocolVersion; self.role = role; self.name = name; self.threads = threads
        self.cachedModel = cachedModel; self.capabilities = capabilities; self.nonce = nonce; self.kernels = kernels
    }
}

/// Coordinator -> worker, the coordinator's first frame. Magic and version lead it in every version.
public struct Challenge: Equatable, Sendable {
    public var protocolVersion: UInt16
    /// The coordinator's 32 random bytes, to be covered by the worker's AUTH proof.
    public var nonce: [UInt8]
    /// False when the coordinator has no token: the AUTH proof is then not checked.
    public var authRequired: Bool

    public init(protocolVersion: UInt16 = WireProtocol.version, nonce: [UInt8], authRequired: Bool) {
        self.protocolVersion = protocolVersion; self.nonce = nonce; self.authRequired = authRequired
    }
}

/// Worker -> coordinator: HMAC-SHA256 proof that the worker knows the token (`HandshakeProof.worker`).
public struct Auth: Equatable, Sendable {
    public var proof: [UInt8]
    public init(proof: [UInt8]) { self.proof = proof }
}

/// The model a job runs.
public struct ModelDescriptor: Equatable, Sendable {
    public var sha256: SHA256Digest
    public var byteCount: UInt64
    /// Variant name ("demo", "b", "s", "blazepose-full").
    public var variant: String
    /// Model family ("ftp-pose", "blazepose-full"): a worker checks the bytes it loads hold this one.
    public var family: String
    public var inputShape: ModelInputShape
    /// The job's arithmetic for the linear layers, "fp32" or "bf16" (PoseTensor's Precision);
    /// every worker runs it with its best kernel for it.
    public var precision: String

    public init(sha256: SHA256Digest, byteCount: UInt64, variant: String, family: String = "ftp-pose", inputShape: ModelInputShape,
                precision: String = "fp32") {
        self.sha256 = sha256; self.byteCount = byteCount; self.variant = variant; self.family = family; self.inputShape = inputShape
        self.precision = precision
    }
}

/// Coordinator -> worker: the connection is accepted.
public struct Welcome: Equatable, Sendable {
    public var sessionID: UInt64
    public var heartbeatIntervalMs: UInt32
    /// How long a lease lasts from the moment the worker receives its UNIT.
    public var leaseDurationMs: UInt32
    public var model: ModelDescriptor
    /// The coordinator's `frameBytesMax`: the worker must not send larger frames.
    public var frameBytesMax: UInt32
    /// Most units the coordinator lets one worker hold (caps the worker's CREDIT).
    public var unitsInFlightMax: UInt32
    /// Size of the MODEL_CHUNKs the coordinator sends.
    public var modelChunkBytes: UInt32
    /// The coordinator's proof (`HandshakeProof.coordinator`); 32 zero bytes without a token.
    public var proof: [UInt8]

    public init(sessionID: UInt64, heartbeatIntervalMs: UInt32, leaseDurationMs: UInt32, model: ModelDescriptor,
                frameBytesMax: UInt32, unitsInFlightMax: UInt32, modelChunkBytes: UInt32, proof: [UInt8]) {
        self.sessionID = sessionID; self.heartbeatIntervalMs = heartbeatIntervalMs; self.leaseDurationMs = leaseDurationMs
        self.model = model; self.frameBytesMax = frameBytesMax; self.unitsInFlightMax = unitsInFlightMax
        self.modelChunkBytes = modelChunkBytes; self.proof = proof
    }
}

/// Why a connection is refused. A struct (not an enum) so codes from newer peers still decode.
public struct RejectCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let other = RejectCode(rawValue: 0)
    public static let badMagic = RejectCode(rawValue: 1)
    public static let versionMismatch = RejectCode(rawValue: 2)
    public static let authenticationFailed = RejectCode(rawValue: 3)
    public static let malformed = RejectCode(rawValue: 4)
    public static let draining = RejectCode(rawValue: 5)
    public static let tooManyPeers = RejectCode(rawValue: 6)
    public static let handshakeTimeout = RejectCode(rawValue: 7)
    public static let unexpectedMessage = RejectCode(rawValue: 8)

    public var description: String {
        switch self {
        case .badMagic: return "bad magic"
        case .versionMismatch: return "version mismatch"
        case .authenticationFailed: return "authentication failed"
        case .malformed: return "malformed frame"
        case .draining: return "draining"
        case .tooManyPeers: return "too many peers"
        case .handshakeTimeout: return "handshake timeout"
        case .unexpectedMessage: return "unexpected message"
        default: return "code \(rawValue)"
        }
    }
}

/// Either way: the connection is refused or ended because of an error; a sentence says why.
public struct Reject: Equatable, Sendable {
    public var code: RejectCode
    public var reason: String
    public init(code: RejectCode, reason: String) { self.code = code; self.reason = reason }
}

// MARK: - Work

/// Either way, every heartbeat interval: the peer is alive.
public struct Heartbeat: Equatable, Sendable {
    public var sequence: UInt64
    public init(sequence: UInt64) { self.sequence = sequence }
}

/// Worker -> coordinator: the worker can hold `units` units at once (its window). The coordinator
/// keeps at most that many leased to it, capped by WELCOME's `unitsInFlightMax`; a later CREDIT
/// replaces the earlier value (0: send nothing more).
public struct Credit: Equatable, Sendable {
    public var units: UInt32
    public init(units: UInt32) { self.units = units }
}

/// Worker -> coordinator: send the weights with this hash, from `offset` on (resuming a partial download).
public struct ModelRequest: Equatable, Sendable {
    public var sha256: SHA256Digest
    public var offset: UInt64
    public init(sha256: SHA256Digest, offset: UInt64) { self.sha256 = sha256; self.offset = offset }
}

/// Coordinator -> worker: bytes `offset ..< offset + bytes.count` of the weights file of `totalByteCount`
/// bytes. The worker checks the SHA-256 of the whole file after the last chunk.
public struct ModelChunk: Equatable, Sendable {
    public var sha256: SHA256Digest
    public var offset: UInt64
    public var totalByteCount: UInt64
    public var bytes: [UInt8]

    public init(sha256: SHA256Digest, offset: UInt64, totalByteCount: UInt64, bytes: [UInt8]) {
        self.sha256 = sha256; self.offset = offset; self.totalByteCount = totalByteCount; self.bytes = bytes
    }

    public var isLast: Bool { offset + UInt64(bytes.count) == totalByteCount }
}

/// Coordinator -> worker: a lease on one unit of work.
public struct Unit: Equatable, Sendable {
    public var id: UnitID
    /// Distinguishes leases of the same unit (speculative re-leases); a RESULT names it.
    public var leaseID: UInt64
    /// The lease runs out this long after the worker receives the UNIT. Relative, because
    /// the machines' clocks need not agree.
    public var leaseDurationMs: UInt32
    /// Crop geometry: width, height, frames per window (T); joints expected back.
    public var inputShape: ModelInputShape
    public var windowCount: Int
    /// windowCount x T x H x W x 3 uint8 RGB crops, encoded (`UnitPayload`).
    public var crops: UnitPayload

    public init(id: UnitID, leaseID: UInt64, leaseDurationMs: UInt32, inputShape: ModelInputShape,
                windowCount: Int, crops: UnitPayload) {
        self.id = id; self.leaseID = leaseID; self.leaseDurationMs = leaseDurationMs
        self.inputShape = inputShape; self.windowCount = windowCount; self.crops = crops
    }
}

/// Worker -> coordinator: keypoints of every window of a unit, in window order.
public struct UnitResult: Equatable, Sendable {
    public var id: UnitID
    public var leaseID: UInt64
    /// One entry per window, each `joints x 3` values: x, y (heatmap pixels), score.
    public var windows: [WindowKeypoints]
    /// Time the model spent on the unit, for throughput statistics.
    public var computeMicros: UInt64

    public init(id: UnitID, leaseID: UInt64, windows: [WindowKeypoints], computeMicros: UInt64) {
        self.id = id; self.leaseID = leaseID; self.windows = windows; self.computeMicros = computeMicros
    }
}

/// Worker -> coordinator: the unit could not be computed here.
public struct UnitFailure: Equatable, Sendable {
    public var id: UnitID
    public var leaseID: UInt64
    public var reason: String
    public init(id: UnitID, leaseID: UInt64, reason: String) { self.id = id; self.leaseID = leaseID; self.reason = reason }
}

/// Coordinator -> worker: finish what you hold, take nothing new, then BYE.
public struct Drain: Equatable, Sendable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

/// Either way: a clean goodbye; the sender closes after it.
public struct Bye: Equatable, Sendable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

/// Coordinator -> status client: the job's status as a JSON document (UTF-8).
public struct StatusReport: Equatable, Sendable {
    public var json: String
    public init(json: String) { self.json = json }
}

/// Every message of the protocol.
public enum WireMessage: Equatable, Sendable {
    case hello(Hello)
    case challenge(Challenge)
    case auth(Auth)
    case welcome(Welcome)
    case reject(Reject)
    case heartbeat(Heartbeat)
    case credit(Credit)
    case modelRequest(ModelRequest)
    case modelChunk(ModelChunk)
    case unit(Unit)
    case result(UnitResult)
    case fail(UnitFailure)
    case drain(Drain)
    case bye(Bye)
    case statusRequest
    case status(StatusReport)

    public var type: MessageType {
        switch self {
        case .hello: return .hello
        case .challenge: return .challenge
        case .auth: return .auth
        case .welcome: return .welcome
        case .reject: return .reject
        case .heartbeat: return .heartbeat
        case .credit: return .credit
        case .modelRequest: return .modelRequest
        case .modelChunk: return .modelChunk
        case .unit: return .unit
        case .result: return .result
        case .fail: return .fail
        case .drain: return .drain
        case .bye: return .bye
        case .statusRequest: return .statusRequest
        case .status: return .status
        }
    }
}

// MARK: - Payload encoding

extension WireMessage {
    /// The payload bytes of this message (without the frame header).
    public func encodePayload(limits: WireLimits = .default) throws -> [UInt8] {
        var w = WireWriter(type)
        switch self {
        case .hello(let m):
            w.u32(WireProtocol.magic)
            w.u16(m.protocolVersion)
            w.u8(m.role.rawValue)
            try w.string(m.name, field: "name", max: limits.stringBytesMax)
            w.u32(m.threads)
            if let model = m.cachedModel { w.bool(true); w.digest(model) } else { w.bool(false) }
            w.u64(m.capabilities.rawValue)
            try w.fixed(m.nonce, count: WireProtocol.nonceByteCount, field: "nonce")
            try w.string(m.kernels, field: "kernels", max: limits.stringBytesMax)
        case .challenge(let m):
            w.u32(WireProtocol.magic)
            w.u16(m.protocolVersion)
            try w.fixed(m.nonce, count: WireProtocol.nonceByteCount, field: "nonce")
            w.bool(m.authRequired)
        case .auth(let m):
            try w.fixed(m.proof, count: WireProtocol.proofByteCount, field: "proof")
        case .welcome(let m):
            w.u64(m.sessionID)
            w.u32(m.heartbeatIntervalMs)
            w.u32(m.leaseDurationMs)
            try w.encode(m.model, limits: limits)
            w.u32(m.frameBytesMax)
            w.u32(m.unitsInFlightMax)
            w.u32(m.modelChunkBytes)
            try w.fixed(m.proof, count: WireProtocol.proofByteCount, field: "proof")
        case .reject(let m):
            w.u16(m.code.rawValue)
            try w.string(m.reason, field: "reason", max: limits.stringBytesMax)
        case .heartbeat(let m):
            w.u64(m.sequence)
        case .credit(let m):
            w.u32(m.units)
        case .modelRequest(let m):
            w.digest(m.sha256)
            w.u64(m.offset)
        case .modelChunk(let m):
            try ModelChunk.check(offset: m.offset, count: m.bytes.count, total: m.totalByteCount, limits: limits)
            w.digest(m.sha256)
            w.u64(m.offset)
            w.u64(m.totalByteCount)
            try w.blob(m.bytes, field: "bytes", max: limits.modelChunkBytesMax)
        case .unit(let m):
            try Unit.check(shape: m.inputShape, windowCount: m.windowCount, crops: m.crops, limits: limits)
            w = WireWriter(.unit, capacity: m.crops.bytes.count + 128)
            try w.encode(m.id, limits: limits)
            w.u64(m.leaseID)
            w.u32(m.leaseDurationMs)
            w.u32(UInt32(m.inputShape.width))
            w.u32(UInt32(m.inputShape.height))
            w.u32(UInt32(m.inputShape.frames))
            w.u32(UInt32(m.inputShape.joints))
            w.u32(UInt32(m.windowCount))
            w.u8(m.crops.encoding.rawValue)
            w.u64(m.crops.rawByteCount)
            try w.blob(m.crops.bytes, field: "crops", max: limits.payloadBytesMax)
        case .result(let m):
            try w.encode(m.id, limits: limits)
            w.u64(m.leaseID)
            try w.count(m.windows.count, field: "windowCount", max: limits.windowsPerUnitMax)
            let valuesPerWindow = m.windows.first?.values.count ?? 0
            guard valuesPerWindow % 3 == 0, m.windows.allSatisfy({ $0.values.count == valuesPerWindow }) else {
                throw WireError.invalidField(message: .result, field: "windows", reason: "every window must hold the same joints x 3 values")
            }
            try w.count(valuesPerWindow / 3, field: "joints", max: limits.jointsMax)
            for window in m.windows { w.floats(window.values) }
            w.u64(m.computeMicros)
        case .fail(let m):
            try w.encode(m.id, limits: limits)
            w.u64(m.leaseID)
            try w.string(m.reason, field: "reason", max: limits.stringBytesMax)
        case .drain(let m):
            try w.string(m.reason, field: "reason", max: limits.stringBytesMax)
        case .bye(let m):
            try w.string(m.reason, field: "reason", max: limits.stringBytesMax)
        case .statusRequest:
            break
        case .status(let m):
            try w.string(m.json, field: "json", max: limits.statusBytesMax)
        }
        return w.bytes
    }

    /// Decodes the payload of a message of `type`, checking every field against `limits`.
    public static func decode(type rawType: UInt8, payload: [UInt8], limits: WireLimits = .default) throws -> WireMessage {
        guard let type = MessageType(rawValue: rawType) else { throw WireError.unknownMessageType(rawType) }
        var r = WireReader(type, payload)
        let message: WireMessage
        switch type {
        case .hello:
            try r.magicAndVersion()
            let version = WireProtocol.version
            let roleByte = try r.u8("role")
            guard let role = PeerRole(rawValue: roleByte) else {
                throw WireError.invalidField(message: type, field: "role", reason: "unknown role \(roleByte)")
            }
            let name = try r.string("name", max: limits.stringBytesMax)
            let threads = try r.u32("threads")
            let cached = try r.bool("hasCachedModel") ? try r.digest("cachedModel") : nil
            let capabilities = Capabilities(rawValue: try r.u64("capabilities"))
            let nonce = try r.fixed(WireProtocol.nonceByteCount, field: "nonce")
            let kernels = try r.string("kernels", max: limits.stringBytesMax)
            message = .hello(Hello(protocolVersion: version, role: role, name: name, threads: threads,
                                   cachedModel: cached, capabilities: capabilities, nonce: nonce, kernels: kernels))
        case .challenge:
            try r.magicAndVersion()
            let nonce = try r.fixed(WireProtocol.nonceByteCount, field: "nonce")
            message = .challenge(Challenge(nonce: nonce, authRequired: try r.bool("authRequired")))
        case .auth:
            message = .auth(Auth(proof: try r.fixed(WireProtocol.proofByteCount, field: "proof")))
        case .welcome:
            let session = try r.u64("sessionID")
            let heartbeat = try r.u32("heartbeatIntervalMs")
            let lease = try r.u32("leaseDurationMs")
            let model = try r.modelDescriptor(limits: limits)
            let frameMax = try r.u32("frameBytesMax")
            let inFlight = try r.u32("unitsInFlightMax")
            let chunk = try r.u32("modelChunkBytes")
            let proof = try r.fixed(WireProtocol.proofByteCount, field: "proof")
            message = .welcome(Welcome(sessionID: session, heartbeatIntervalMs: heartbeat, leaseDurationMs: lease,
                                       model: model, frameBytesMax: frameMax, unitsInFlightMax: inFlight,
                                       modelChunkBytes: chunk, proof: proof))
        case .reject:
            let code = RejectCode(rawValue: try r.u16("code"))
            message = .reject(Reject(code: code, reason: try r.string("reason", max: limits.stringBytesMax)))
        case .heartbeat:
            message = .heartbeat(Heartbeat(sequence: try r.u64("sequence")))
        case .credit:
            message = .credit(Credit(units: try r.u32("units")))
        case .modelRequest:
            let digest = try r.digest("sha256")
            message = .modelRequest(ModelRequest(sha256: digest, offset: try r.u64("offset")))
        case .modelChunk:
            let digest = try r.digest("sha256")
            let offset = try r.u64("offset")
            let total = try r.u64("totalByteCount")
            let bytes = try r.blob("bytes", max: limits.modelChunkBytesMax)
            try ModelChunk.check(offset: offset, count: bytes.count, total: total, limits: limits)
            message = .modelChunk(ModelChunk(sha256: digest, offset: offset, totalByteCount: total, bytes: bytes))
        case .unit:
            let id = try r.unitID(limits: limits)
            let lease = try r.u64("leaseID")
            let duration = try r.u32("leaseDurationMs")
            let width = try r.count("width", max: limits.cropSideMax, minimum: 1)
            let height = try r.count("height", max: limits.cropSideMax, minimum: 1)
            let frames = try r.count("frames", max: limits.framesPerWindowMax, minimum: 1)
            let joints = try r.count("joints", max: limits.jointsMax, minimum: 1)
            let windows = try r.count("windowCount", max: limits.windowsPerUnitMax, minimum: 1)
            let encodingByte = try r.u8("encoding")
            guard let encoding = PayloadEncoding(rawValue: encodingByte) else {
                throw WireError.invalidField(message: type, field: "encoding", reason: "unknown crop encoding \(encodingByte)")
            }
            let rawCount = try r.u64("rawByteCount")
            // Fields are checked before the crops are copied out of the payload.
            let shape = ModelInputShape(width: width, height: height, frames: frames, joints: joints)
            let expected = UInt64(windows) * UInt64(shape.windowBytes)
            guard expected <= UInt64(limits.unitRawBytesMax) else {
                throw WireError.limitExceeded(message: type, field: "rawByteCount", value: expected, max: UInt64(limits.unitRawBytesMax))
            }
            guard rawCount == expected else {
                throw WireError.invalidField(message: type, field: "rawByteCount", reason: "expected \(expected) (\(windows) windows of \(frames) x \(height) x \(width) x 3), got \(rawCount)")
            }
            let bytes = try r.blob("crops", max: limits.payloadBytesMax)
            let crops = UnitPayload(encoding: encoding, rawByteCount: rawCount, bytes: bytes)
            try Unit.check(shape: shape, windowCount: windows, crops: crops, limits: limits)
            message = .unit(Unit(id: id, leaseID: lease, leaseDurationMs: duration, inputShape: shape, windowCount: windows, crops: crops))
        case .result:
            let id = try r.unitID(limits: limits)
            let lease = try r.u64("leaseID")
            let windowCount = try r.count("windowCount", max: limits.windowsPerUnitMax)
            let joints = try r.count("joints", max: limits.jointsMax)
            let needed = windowCount * joints * 3 * 4
            guard needed <= r.remaining else {
                throw WireError.truncated(message: type, field: "keypoints", needed: needed, remaining: r.remaining)
            }
            var windows: [WindowKeypoints] = []
            windows.reserveCapacity(windowCount)
            for _ in 0..<windowCount { windows.append(WindowKeypoints(values: try r.floats(joints * 3, field: "keypoints"))) }
            message = .result(UnitResult(id: id, leaseID: lease, windows: windows, computeMicros: try r.u64("computeMicros")))
        case .fail:
            let id = try r.unitID(limits: limits)
            let lease = try r.u64("leaseID")
            message = .fail(UnitFailure(id: id, leaseID: lease, reason: try r.string("reason", max: limits.stringBytesMax)))
        case .drain:
            message = .drain(Drain(reason: try r.string("reason", max: limits.stringBytesMax)))
        case .bye:
            message = .bye(Bye(reason: try r.string("reason", max: limits.stringBytesMax)))
        case .statusRequest:
            message = .statusRequest
        case .status:
            message = .status(StatusReport(json: try r.string("json", max: limits.statusBytesMax)))
        }
        try r.finish()
        return message
    }
}

extension ModelChunk {
    static func check(offset: UInt64, count: Int, total: UInt64, limits: WireLimits) throws {
        guard total <= limits.modelBytesMax else {
            throw WireError.limitExceeded(message: .modelChunk, field: "totalByteCount", value: total, max: limits.modelBytesMax)
        }
        guard count <= limits.modelChunkBytesMax else {
            throw WireError.limitExceeded(message: .modelChunk, field: "bytes", value: UInt64(count), max: UInt64(limits.modelChunkBytesMax))
        }
        guard offset <= total, UInt64(count) <= total - offset else {
            throw WireError.invalidField(message: .modelChunk, field: "offset", reason: "chunk \(offset) + \(count) bytes runs past the model's \(total) bytes")
        }
    }
}

extension Unit {
    static func check(shape: ModelInputShape, windowCount: Int, crops: UnitPayload, limits: WireLimits) throws {
        func limit(_ field: String, _ value: Int, _ range: ClosedRange<Int>) throws {
            guard value >= range.lowerBound else {
                throw WireError.invalidField(message: .unit, field: field, reason: "must be at least \(range.lowerBound), got \(value)")
            }
            guard value <= range.upperBound else {
                throw WireError.limitExceeded(message: .unit, field: field, value: UInt64(value), max: UInt64(range.upperBound))
            }
        }
        try limit("width", shape.width, 1...limits.cropSideMax)
        try limit("height", shape.height, 1...limits.cropSideMax)
        try limit("frames", shape.frames, 1...limits.framesPerWindowMax)
        try limit("joints", shape.joints, 1...limits.jointsMax)
        try limit("windowCount", windowCount, 1...limits.windowsPerUnitMax)
        let expected = UInt64(windowCount) * UInt64(shape.windowBytes)
        guard expected <= UInt64(limits.unitRawBytesMax) else {
            throw WireError.limitExceeded(message: .unit, field: "rawByteCount", value: expected, max: UInt64(limits.unitRawBytesMax))
        }
        guard crops.rawByteCount == expected else {
            throw WireError.invalidField(message: .unit, field: "rawByteCount", reason: "expected \(expected), got \(crops.rawByteCount)")
        }
        if crops.encoding == .raw, UInt64(crops.bytes.count) != expected {
            throw WireError.invalidField(message: .unit, field: "crops", reason: "raw crops must be \(expected) bytes, got \(crops.bytes.count)")
        }
    }
}

extension WireWriter {
    mutating func encode(_ id: UnitID, limits: WireLimits) throws {
        u32(id.videoIndex)
        try string(id.videoName, field: "videoName", max: limits.stringBytesMax)
        u32(id.unitIndex)
    }

    mutating func encode(_ model: ModelDescriptor, limits: WireLimits) throws {
        digest(model.sha256)
        u64(model.byteCount)
        try string(model.variant, field: "variant", max: limits.stringBytesMax)
        try string(model.family, field: "family", max: limits.stringBytesMax)
        let shape = model.inputShape
        for (field, value, max) in [("width", shape.width, limits.cropSideMax), ("height", shape.height, limits.cropSideMax),
                                    ("frames", shape.frames, limits.framesPerWindowMax), ("joints", shape.joints, limits.jointsMax)] {
            try count(value, field: field, max: max)
        }
        try string(model.precision, field: "precision", max: limits.stringBytesMax)
    }
}

extension WireReader {
    mutating func magicAndVersion() throws {
        let magic = try u32("magic")
        guard magic == WireProtocol.magic else { throw WireError.badMagic(got: magic) }
        let version = try u16("version")
        guard version == WireProtocol.version else { throw WireError.versionMismatch(peer: version, ours: WireProtocol.version) }
    }

    mutating func unitID(limits: WireLimits) throws -> UnitID {
        let video = try u32("videoIndex")
        let name = try string("videoName", max: limits.stringBytesMax)
        return UnitID(videoIndex: video, videoName: name, unitIndex: try u32("unitIndex"))
    }

    mutating func modelDescriptor(limits: WireLimits) throws -> ModelDescriptor {
        let digest = try digest("model.sha256")
        let bytes = try u64("model.byteCount")
        guard bytes <= limits.modelBytesMax else {
            throw WireError.limitExceeded(message: message, field: "model.byteCount", value: bytes, max: limits.modelBytesMax)
        }
        let variant = try string("model.variant", max: limits.stringBytesMax)
        let family = try string("model.family", max: limits.stringBytesMax)
        let width = try count("model.width", max: limits.cropSideMax)
        let height = try count("model.height", max: limits.cropSideMax)
        let frames = try count("model.frames", max: limits.framesPerWindowMax)
        let joints = try count("model.joints", max: limits.jointsMax)
        let precision = try string("model.precision", max: limits.stringBytesMax)
        return ModelDescriptor(sha256: digest, byteCount: bytes, variant: variant, family: family,
                               inputShape: ModelInputShape(width: width, height: height, frames: frames, joints: joints),
                               precision: precision)
    }
}
