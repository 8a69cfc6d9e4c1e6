// A whole cluster in one process under one seed (TigerBeetle VOPR / FoundationDB style): the real
// `Scheduler`, a coordinator shell that executes its actions like the real one (journal, producer,
// connections), simulated workers, and a simulated network and clock. Faults are drawn from the
// seed: connection breaks (TCP never drops silently: a break loses what is in flight and each side
// notices a close, or the coordinator notices nothing and the heartbeat timeout must), latency
// spikes, a UNIT whose send fails mid-decision (the session closes while its batch of actions is
// carried out), results re-sent after a reconnect, slow and stalled workers, worker crashes, late joins,
// drains, CREDIT changes, a coordinator crash with journal replay, and poison units (one kind
// crashes every worker that runs it, one kind makes every worker report FAIL).
//
// Every run must end with every unit journalled exactly once, accepted with the value a fault-free
// run computes, or failed if and only if it is poison; any violation stops the run with the seed and
// the command that replays it.

/// What to simulate.
public struct SimulationOptions: Sendable {
    public var seed: UInt64
    /// False: the same scenario (videos, units, workers, poison units) without any fault, the reference.
    public var faults: Bool = true
    /// Processed events after which the run is declared stuck.
    public var stepsMax: Int = 400_000
    /// Simulated time after which the run is declared stuck.
    public var simulatedTimeMaxMs: Int64 = 6 * 3_600_000
    /// No new fault after this simulated time, and every absent worker comes back, so a correct
    /// scheduler always finishes (liveness).
    public var faultHorizonMs: Int64 = 90_000
    /// Keep the whole trace in the outcome (for replaying one seed); otherwise only its tail.
    public var keepsFullTrace: Bool = false
    /// Test hook for the checker itself: the coordinator shell journals dropped duplicates too,
    /// as a broken coordinator would. A correct checker must then report a violation.
    public var journalsDuplicates: Bool = false

    public init(seed: UInt64) { self.seed = seed }

    /// The scheduler limits the simulation runs with: short times so that expiry, heartbeat
    /// timeouts and speculation all happen within a short simulated job.
    public static let limits = SchedulerLimits(
        leaseDurationMs: 20_000, heartbeatIntervalMs: 1_000, heartbeatMissesMax: 3, attemptsMax: 3,
        unitsQueuedMax: 12, creditsPerWorkerMax: 8, workersMax: 64, speculativeAfterFraction: 0.25,
        reconnectGraceMs: 10_000)

    /// The shell command that replays this seed.
    public var replayCommand: String {
        "SIM_SEED=\(seed) SIM_TRACE=1 swift test --filter SimulationTests/testSeeds"
    }
}

/// One line of the merged output: a unit and what became of it.
public struct SimulatedOutputRecord: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var unit: UnitID
    /// The result value (a deterministic function of the unit), or nil when the unit failed.
    public var value: UInt64?

    public static func < (lhs: SimulatedOutputRecord, rhs: SimulatedOutputRecord) -> Bool { lhs.unit < rhs.unit }
    public var description: String { "\(unit)=\(value.map { String($0, radix: 16) } ?? "failed")" }
}

/// How a simulated run ended.
public struct SimulationOutcome: Sendable {
    public var options: SimulationOptions
    /// The first violated promise, or nil.
    public var violation: String?
    /// The journal at the end, sorted by unit.
    public var output: [SimulatedOutputRecord]
    public var steps: Int
    public var simulatedTimeMs: Int64
    /// Counters of the scheduler's last life (a coordinator crash starts a new one).
    public var counters: SchedulerCounters
    /// Totals over the run, for tests that check the faults really happened.
    public var faultCounts: [String: Int]
    /// Units that are not poison but were failed because `attemptsMax` workers died or stalled
    /// while working on them (indistinguishable from poison; rare, and only under heavy faults).
    /// They are the only allowed difference from the fault-free output.
    public var bystanderFailures: Set<UnitID>
    /// The trace (or its last lines).
    public var trace: [String]
    /// A digest of the whole trace: equal for two runs of one seed.
    public var traceDigest: UInt64

    public var passed: Bool { violation == nil }

    /// The message a failing test prints.
    public var report: String {
        """
        simulation seed \(options.seed) failed: \(violation ?? "no violation")
        replay: \(options.replayCommand)
        after \(steps) steps, \(simulatedTimeMs) ms simulated; faults \(faultCounts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        trace tail:
        \(trace.suffix(40).joined(separator: "\n"))
        """
    }
}

public enum ClusterSimulation {
    /// Runs one seed to the end (job complete, violation, or a bound).
    public static func run(_ options: SimulationOptions) -> SimulationOutcome {
        let world = SimulatedWorld(options)
        return world.run()
    }

    /// The result a worker computes for a unit: any deterministic function of the unit will do.
    public static func resultValue(of unit: UnitID) -> UInt64 {
        var generator = SeededGenerator(seed: UInt64(truncatingIfNeeded: unit.video) &* 0x1_0000_0001 ^ UInt64(truncatingIfNeeded: unit.index))
        return generator.next()
    }
}

// MARK: - The world

private struct Violation: Error {
    var message: String
}

private enum ToCoordinator {
    case hello(credits: Int, instance: UInt64)
    case heartbeat
    case credit(Int)
    case result(UnitID, LeaseID, value: UInt64)
    case failure(UnitID, LeaseID, reason: String)
    case drain
    case bye
    /// The connection closed (EOF or reset), seen by the coordinator.
    case closed
}

private enum ToWorker {
    case lease(UnitID, LeaseID)
    case drained
    /// The connection closed, seen by the worker.
    case closed
}

private enum SimEvent {
    case tick(coordinatorLife: Int)
    case toCoordinator(connection: UInt64, ToCoordinator)
    case toWorker(connection: UInt64, ToWorker)
    case workerStart(worker: Int)
    case workerConnect(worker: Int)
    case workerHeartbeat(worker: Int, epoch: Int)
    case computeDone(worker: Int, epoch: Int)
    case workerCrash(worker: Int, epoch: Int, poisoned: Bool)
    case networkBreak(worker: Int)
    case workerDrain(worker: Int)
    case workerCredit(worker: Int)
    case workerStall(worker: Int)
    case coordinatorCrash
    case coordinatorRestart
    /// The fault horizon: workers advertise their full capacity again.
    case calm
}

private struct ScheduledEvent: Comparable {
    var time: Int64
    var sequence: Int
    var event: SimEvent

    static func < (lhs: ScheduledEvent, rhs: ScheduledEvent) -> Bool { (lhs.time, lhs.sequence) < (rhs.time, rhs.sequence) }
    static func == (lhs: ScheduledEvent, rhs: ScheduledEvent) -> Bool { (lhs.time, lhs.sequence) == (rhs.time, rhs.sequence) }
}

/// A binary min-heap of events by (time, sequence): deterministic order for equal times.
private struct EventQueue {
    private var heap: [ScheduledEvent] = []
    var isEmpty: Bool { heap.isEmpty }

    mutating func push(_ element: ScheduledEvent) {
        heap.append(element)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if heap[child] < heap[parent] { heap.swapAt(child, parent); child = parent } else { break }
        }
    }

    mutating func pop() -> ScheduledEvent? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && heap[left] < heap[smallest] { smallest = left }
            if right < heap.count && heap[right] < heap[smallest] { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

private struct WorkerSpec {
    var capacity: Int
    /// Compute time multiplier (1 normal, more for slow machines).
    var slowness: Int64
    var joinAtMs: Int64
}

private struct SimWorker {
    var spec: WorkerSpec
    var alive = false
    /// Current connection, if connected (from the worker's side).
    var connection: UInt64?
    /// Bumped whenever queued work and timers must be forgotten (crash, reconnect).
    var epoch = 0
    var queue: [(UnitID, LeaseID)] = []
    var current: (UnitID, LeaseID)?
    /// Results sent on earlier connections that may have been lost: re-sent after a reconnect.
    var unconfirmed: [(UnitID, LeaseID, UInt64)] = []
    var credits: Int
    var draining = false
    var stalledUntil: Int64 = 0
    /// Names the process: new at every start, kept across reconnects.
    var instance: UInt64 = 0
    var starts: UInt64 = 0
    var held: Int { queue.count + (current == nil ? 0 : 1) }
}

private struct Connection {
    var worker: Int
    var coordinatorLife: Int
    /// Broken (network, coordinator crash): whatever is in flight either way is lost.
    var broken = false
    /// The coordinator closed it: it reads nothing more; what it sent before still arrives.
    var closedByCoordinator = false
    var lastToCoordinator: Int64 = 0
    var lastToWorker: Int64 = 0
    var creditsMax: Int
}

private struct FaultRates {
    var breakMeanMs: Double
    var halfOpenProbability: Double
    var crashMeanMs: Double
    var drainMeanMs: Double
    var creditMeanMs: Double
    var stallMeanMs: Double
    var latencyMaxMs: Int64
    var spikeProbability: Double
    var coordinatorCrashAtMs: Int64?
}

private final class SimulatedWorld {
    let options: SimulationOptions
    let limits = SimulationOptions.limits
    var scenarioRandom: SeededGenerator
    var random: SeededGenerator
    var now: Int64 = 0
    var steps = 0
    var events = EventQueue()
    var sequence = 0
    var trace: [String] = []
    var traceDigest: UInt64 = 0xCBF2_9CE4_8422_2325
    var faultCounts: [String: Int] = [:]

    // Scenario.
    var unitCounts: [Int] = []
    var planEarly: [Bool] = []
    var poisonCrash: Set<UnitID> = []
    var poisonFail: Set<UnitID> = []
    /// Units whose compute never ends (the worker keeps heartbeating).
    var poisonHang: Set<UnitID> = []
    var rates: FaultRates
    /// Per unit: how often a worker process died or stalled while working on it. A unit that
    /// was in the hands of `attemptsMax` dying workers looks exactly like poison to any
    /// coordinator, so failing it is the documented behaviour, not a violation.
    var bystanderLosses: [UnitID: Int] = [:]
    var bystanderFailures: Set<UnitID> = []

    // Coordinator.
    var scheduler: Scheduler
    var coordinatorUp = true
    var coordinatorLife = 0
    var journalAccepted: [UnitID: UInt64] = [:]
    var journalFailed: [UnitID: String] = [:]
    var completedVideos: Set<Int> = []
    var jobComplete = false
    var producerVideo = 0
    var producerIndex = 0
    var producerPlanned: Set<Int> = []
    var producerExhausted = false
    var feeding = false
    let shellEvents = EventFeed<(event: SchedulerEvent, value: UInt64?)>()
    var eventViolation: Violation?

    // Network and workers.
    var connections: [UInt64: Connection] = [:]
    var nextConnection: UInt64 = 1
    var workers: [SimWorker] = []

    init(_ options: SimulationOptions) {
        self.options = options
        scenarioRandom = SeededGenerator(seed: options.seed)
        random = SeededGenerator(seed: options.seed ^ 0xA5A5_5A5A_DEAD_BEEF)
        scheduler = Scheduler(limits: SimulationOptions.limits, now: 0)
        scheduler.checksInvariants = true
        rates = FaultRates(breakMeanMs: 0, halfOpenProbability: 0, crashMeanMs: 0, drainMeanMs: 0, creditMeanMs: 0,
                           stallMeanMs: 0, latencyMaxMs: 1, spikeProbability: 0, coordinatorCrashAtMs: nil)
        drawScenario()
    }

    /// The scenario depends on the seed only, never on `faults`, so the reference run matches.
    func drawScenario() {
        let videoCount = Int.random(in: 1...8, using: &scenarioRandom)
        for video in 0..<videoCount {
            let count = scenarioRandom.chance(0.1) ? 0 : Int.random(in: 1...24, using: &scenarioRandom)
            unitCounts.append(count)
            planEarly.append(scenarioRandom.chance(0.5))
            for index in 0..<count {
                if scenarioRandom.chance(0.01) { poisonCrash.insert(UnitID(video: video, index: index)) }
                else if scenarioRandom.chance(0.01) { poisonFail.insert(UnitID(video: video, index: index)) }
                else if scenarioRandom.chance(0.005) { poisonHang.insert(UnitID(video: video, index: index)) }
            }
        }
        let workerCount = Int.random(in: 1...6, using: &scenarioRandom)
        for i in 0..<workerCount {
            let spec = WorkerSpec(
                capacity: Int.random(in: 1...4, using: &scenarioRandom),
                slowness: scenarioRandom.chance(0.25) ? Int64.random(in: 3...10, using: &scenarioRandom) : 1,
                joinAtMs: i == 0 ? 0 : (scenarioRandom.chance(0.6) ? 0 : Int64.random(in: 0...20_000, using: &scenarioRandom)))
            workers.append(SimWorker(spec: spec, credits: spec.capacity))
        }
        // Fault rates vary per seed, as in VOPR: some runs are calm, some are storms.
        rates = FaultRates(
            breakMeanMs: Double.random(in: 5_000...60_000, using: &random),
            halfOpenProbability: Double.random(in: 0...0.5, using: &random),
            crashMeanMs: Double.random(in: 30_000...300_000, using: &random),
            drainMeanMs: Double.random(in: 15_000...120_000, using: &random),
            creditMeanMs: Double.random(in: 5_000...60_000, using: &random),
            stallMeanMs: Double.random(in: 20_000...200_000, using: &random),
            latencyMaxMs: Int64.random(in: 1...80, using: &random),
            spikeProbability: Double.random(in: 0...0.03, using: &random),
            coordinatorCrashAtMs: random.chance(0.3) ? Int64.random(in: 1_000...40_000, using: &random) : nil)
    }

    // MARK: Running

    func run() -> SimulationOutcome {
        var violation: String?
        do {
            try start()
            while !jobComplete {
                guard let next = events.pop() else { throw Violation(message: "no event left before the job completed") }
                steps += 1
                if steps > options.stepsMax { throw Violation(message: "not finished after \(options.stepsMax) steps") }
                if next.time > options.simulatedTimeMaxMs {
                    throw Violation(message: "not finished after \(options.simulatedTimeMaxMs) ms simulated")
                }
                now = next.time
                try process(next.event)
            }
            try checkFinal()
        } catch let error as Violation {
            violation = error.message
        } catch {
            violation = "\(error)"
        }
        let output = (journalAccepted.map { SimulatedOutputRecord(unit: $0.key, value: $0.value) }
            + journalFailed.keys.map { SimulatedOutputRecord(unit: $0, value: nil) }).sorted()
        return SimulationOutcome(
            options: options, violation: violation, output: output, steps: steps, simulatedTimeMs: now,
            counters: scheduler.counters, faultCounts: faultCounts, bystanderFailures: bystanderFailures,
            trace: trace, traceDigest: traceDigest)
    }

    func schedule(_ event: SimEvent, at time: Int64) {
        sequence += 1
        events.push(ScheduledEvent(time: max(time, now), sequence: sequence, event: event))
    }

    func log(_ line: @autoclosure () -> String) {
        let text = "\(now) \(line())"
        for byte in text.utf8 { traceDigest = (traceDigest ^ UInt64(byte)) &* 0x100_0000_01B3 }
        trace.append(text)
        if !options.keepsFullTrace && trace.count > 400 { trace.removeFirst(200) }
    }

    func count(_ fault: String) { faultCounts[fault, default: 0] += 1 }

    var faultsActive: Bool { options.faults && now < options.faultHorizonMs }

    func latency() -> Int64 {
        guard options.faults else { return 1 }
        var delay = Int64.random(in: 1...rates.latencyMaxMs, using: &random)
        if faultsActive && random.chance(rates.spikeProbability) { delay += Int64.random(in: 200...3_000, using: &random); count("latencySpike") }
        return delay
    }

    func start() throws {
        schedule(.tick(coordinatorLife: coordinatorLife), at: 0)
        for (i, worker) in workers.enumerated() {
            schedule(.workerStart(worker: i), at: worker.spec.joinAtMs)
            scheduleFaults(for: i)
        }
        if options.faults, let at = rates.coordinatorCrashAtMs { schedule(.coordinatorCrash, at: at) }
        if options.faults { schedule(.calm, at: options.faultHorizonMs) }
        try feedProducer()
    }

    func process(_ event: SimEvent) throws {
        switch event {
        case .tick(let life):
            guard coordinatorUp, life == coordinatorLife else { return }
            try coordinator(.tick)
            schedule(.tick(coordinatorLife: life), at: now + 200)

        case .toCoordinator(let id, let message):
            try coordinatorReceives(message, on: id)

        case .toWorker(let id, let message):
            try workerReceives(message, on: id)

        case .workerStart(let i):
            guard !workers[i].alive else { return }
            workers[i].alive = true
            workers[i].epoch += 1
            workers[i].starts += 1
            workers[i].instance = UInt64(i + 1) << 32 | workers[i].starts
            workers[i].draining = false
            log("w\(i) starts")
            connect(i)

        case .workerConnect(let i):
            guard workers[i].alive, workers[i].connection == nil else { return }
            connect(i)

        case .workerHeartbeat(let i, let epoch):
            guard workers[i].alive, workers[i].epoch == epoch, let id = workers[i].connection else { return }
            send(.heartbeat, on: id)
            schedule(.workerHeartbeat(worker: i, epoch: epoch), at: now + limits.heartbeatIntervalMs)

        case .computeDone(let i, let epoch):
            guard workers[i].alive, workers[i].epoch == epoch, let (unit, lease) = workers[i].current else { return }
            workers[i].current = nil
            if let id = workers[i].connection {
                if poisonFail.contains(unit) {
                    send(.failure(unit, lease, reason: "corrupt crops in \(unit)"), on: id)
                } else {
                    let value = ClusterSimulation.resultValue(of: unit)
                    send(.result(unit, lease, value: value), on: id)
                    workers[i].unconfirmed.append((unit, lease, value))
                    if workers[i].unconfirmed.count > 8 { workers[i].unconfirmed.removeFirst() }
                }
            }
            startNext(i)

        case .workerCrash(let i, let epoch, let poisoned):
            if poisoned {
                guard workers[i].alive, workers[i].epoch == epoch else { return }
            } else {
                guard faultsActive else { return }
                scheduleNext(.workerCrash(worker: i, epoch: 0, poisoned: false), meanMs: rates.crashMeanMs)
                guard workers[i].alive else { return }
            }
            count(poisoned ? "poisonCrash" : "crash")
            log("w\(i) crashes\(poisoned ? " on poison" : "")")
            if !poisoned, let (unit, _) = workers[i].current { bystanderLosses[unit, default: 0] += 1 }
            if let id = workers[i].connection {
                // The kernel closes the socket of a dead process: data already sent arrives, then EOF.
                deliverClose(id, toCoordinator: true)
            }
            workers[i] = SimWorker(spec: workers[i].spec, epoch: workers[i].epoch + 1, credits: workers[i].spec.capacity,
                                   starts: workers[i].starts)
            // A supervisor (systemd, Kubernetes) restarts it.
            schedule(.workerStart(worker: i), at: now + Int64.random(in: 200...5_000, using: &random))

        case .networkBreak(let i):
            guard faultsActive else { return }
            scheduleNext(.networkBreak(worker: i), meanMs: rates.breakMeanMs)
            guard workers[i].alive, let id = workers[i].connection, !connections[id]!.broken else { return }
            count("break")
            let halfOpen = random.chance(rates.halfOpenProbability)
            log("network break on c\(id) (w\(i))\(halfOpen ? ", half-open" : "")")
            connections[id]!.broken = true
            if !halfOpen { schedule(.toCoordinator(connection: id, .closed), at: now + latency()) } else { count("halfOpen") }
            schedule(.toWorker(connection: id, .closed), at: now + Int64.random(in: 10...2_500, using: &random))

        case .workerDrain(let i):
            guard faultsActive else { return }
            scheduleNext(.workerDrain(worker: i), meanMs: rates.drainMeanMs)
            guard workers[i].alive, !workers[i].draining, let id = workers[i].connection else { return }
            count("drain")
            log("w\(i) drains")
            workers[i].draining = true
            send(.drain, on: id)

        case .workerCredit(let i):
            guard faultsActive else { return }
            scheduleNext(.workerCredit(worker: i), meanMs: rates.creditMeanMs)
            guard workers[i].alive, let id = workers[i].connection else { return }
            let credits = Int.random(in: 0...workers[i].spec.capacity + 2, using: &random)
            count("credit")
            log("w\(i) sends CREDIT \(credits)")
            workers[i].credits = credits
            connections[id]!.creditsMax = max(connections[id]!.creditsMax, credits)
            send(.credit(credits), on: id)

        case .workerStall(let i):
            guard faultsActive else { return }
            scheduleNext(.workerStall(worker: i), meanMs: rates.stallMeanMs)
            guard workers[i].alive else { return }
            count("stall")
            // Compute stops (a stuck GPU call, swapping); heartbeats go on from their own thread.
            let length = Int64.random(in: 1_000...(limits.leaseDurationMs * 3 / 2), using: &random)
            workers[i].stalledUntil = max(workers[i].stalledUntil, now + length)
            if let (unit, _) = workers[i].current { bystanderLosses[unit, default: 0] += 1 }
            log("w\(i) stalls for \(length) ms")

        case .coordinatorCrash:
            count("coordinatorCrash")
            log("coordinator crashes (journal: \(journalAccepted.count) accepted, \(journalFailed.count) failed)")
            coordinatorUp = false
            // Sorted: dictionary order differs between processes and the run must replay exactly.
            for id in connections.keys.sorted() where connections[id]!.coordinatorLife == coordinatorLife && !connections[id]!.broken {
                connections[id]!.broken = true
                schedule(.toWorker(connection: id, .closed), at: now + latency())
            }
            schedule(.coordinatorRestart, at: now + Int64.random(in: 100...3_000, using: &random))

        case .calm:
            log("fault horizon: no more faults")
            for i in workers.indices where workers[i].credits != workers[i].spec.capacity {
                workers[i].credits = workers[i].spec.capacity
                if workers[i].alive, let id = workers[i].connection {
                    connections[id]!.creditsMax = max(connections[id]!.creditsMax, workers[i].credits)
                    send(.credit(workers[i].credits), on: id)
                }
            }

        case .coordinatorRestart:
            coordinatorLife += 1
            coordinatorUp = true
            completedVideos = []
            // Lease ids must not repeat across coordinator runs: a worker may re-send a result under
            // an id of the previous run, which must not match a lease of this one.
            scheduler = Scheduler(limits: limits, now: now, firstLeaseID: UInt64(coordinatorLife) << 40 | 1)
            scheduler.checksInvariants = true
            producerVideo = 0; producerIndex = 0; producerPlanned = []; producerExhausted = false
            log("coordinator restarts, replays \(journalAccepted.count + journalFailed.count) journal records")
            for unit in journalAccepted.keys.sorted() { try coordinator(.restoreAccepted(unit)) }
            for unit in journalFailed.keys.sorted() { try coordinator(.restoreFailed(unit, reason: journalFailed[unit]!)) }
            guard scheduler.counters.unitsRestored == journalAccepted.count + journalFailed.count else {
                throw Violation(message: "restored \(scheduler.counters.unitsRestored) of \(journalAccepted.count + journalFailed.count) journal records")
            }
            schedule(.tick(coordinatorLife: coordinatorLife), at: now)
            try feedProducer()
        }
    }

    func scheduleNext(_ event: SimEvent, meanMs: Double) {
        schedule(event, at: now + random.exponential(meanMs: meanMs))
    }

    /// One self-renewing chain per fault kind and worker, until the fault horizon.
    func scheduleFaults(for i: Int) {
        guard faultsActive else { return }
        scheduleNext(.networkBreak(worker: i), meanMs: rates.breakMeanMs)
        scheduleNext(.workerCrash(worker: i, epoch: 0, poisoned: false), meanMs: rates.crashMeanMs)
        scheduleNext(.workerDrain(worker: i), meanMs: rates.drainMeanMs)
        scheduleNext(.workerCredit(worker: i), meanMs: rates.creditMeanMs)
        scheduleNext(.workerStall(worker: i), meanMs: rates.stallMeanMs)
    }

    // MARK: Network

    func send(_ message: ToCoordinator, on id: UInt64) {
        guard var connection = connections[id], !connection.broken, !connection.closedByCoordinator else { return }
        // TCP keeps order: never deliver before what was sent earlier on this connection.
        let at = max(now + latency(), connection.lastToCoordinator)
        connection.lastToCoordinator = at
        connections[id] = connection
        schedule(.toCoordinator(connection: id, message), at: at)
    }

    func send(_ message: ToWorker, on id: UInt64) {
        guard var connection = connections[id], !connection.broken, !connection.closedByCoordinator else { return }
        let at = max(now + latency(), connection.lastToWorker)
        connection.lastToWorker = at
        connections[id] = connection
        schedule(.toWorker(connection: id, message), at: at)
    }

    /// A close notice, in order after the data already sent on the connection.
    func deliverClose(_ id: UInt64, toCoordinator: Bool) {
        guard let connection = connections[id], !connection.broken else { return }
        if toCoordinator {
            schedule(.toCoordinator(connection: id, .closed), at: max(now + latency(), connection.lastToCoordinator))
        } else {
            schedule(.toWorker(connection: id, .closed), at: max(now + latency(), connection.lastToWorker))
        }
    }

    // MARK: Workers

    func connect(_ i: Int) {
        guard coordinatorUp else {
            schedule(.workerConnect(worker: i), at: now + Int64.random(in: 200...1_000, using: &random))
            return
        }
        let id = nextConnection
        nextConnection += 1
        connections[id] = Connection(worker: i, coordinatorLife: coordinatorLife, creditsMax: workers[i].credits)
        workers[i].connection = id
        workers[i].epoch += 1
        log("w\(i) connects as c\(id) with \(workers[i].credits) credits")
        send(.hello(credits: workers[i].credits, instance: workers[i].instance), on: id)
        // Results that may have been lost with the previous connection: send again (duplicates expected).
        for (unit, lease, value) in workers[i].unconfirmed {
            count("resent")
            send(.result(unit, lease, value: value), on: id)
        }
        schedule(.workerHeartbeat(worker: i, epoch: workers[i].epoch), at: now + limits.heartbeatIntervalMs)
    }

    func workerReceives(_ message: ToWorker, on id: UInt64) throws {
        guard let connection = connections[id] else { return }
        let i = connection.worker
        guard workers[i].alive, workers[i].connection == id else { return }
        // A broken connection delivers nothing but its close notice.
        if case .closed = message {} else if connection.broken { return }
        switch message {
        case .lease(let unit, let lease):
            workers[i].queue.append((unit, lease))
            // Flow control, checked where it matters: the worker never holds more than it advertised.
            if workers[i].held > connection.creditsMax {
                throw Violation(message: "w\(i) on c\(id) holds \(workers[i].held) units, advertised at most \(connection.creditsMax)")
            }
            startNext(i)
        case .drained:
            log("w\(i) drained, says BYE")
            send(.bye, on: id)
            workers[i].connection = nil
            workers[i].alive = false
            workers[i].epoch += 1
            workers[i].queue = []
            workers[i].current = nil
            // It may come back later (a maintenance window), always before the fault horizon ends.
            let back = faultsActive ? now + Int64.random(in: 1_000...30_000, using: &random) : now + 1_000
            schedule(.workerStart(worker: i), at: back)
        case .closed:
            log("w\(i) sees c\(id) closed, reconnects")
            connections[id]!.broken = true
            workers[i].connection = nil
            workers[i].epoch += 1
            // Held units were put back by the coordinator; keep only results that may be lost.
            workers[i].queue = []
            workers[i].current = nil
            workers[i].draining = false
            schedule(.workerConnect(worker: i), at: now + Int64.random(in: 50...2_000, using: &random))
        }
    }

    /// Workers process their units one at a time, in the order leased.
    func startNext(_ i: Int) {
        guard workers[i].current == nil, !workers[i].queue.isEmpty else { return }
        let (unit, lease) = workers[i].queue.removeFirst()
        workers[i].current = (unit, lease)
        if poisonCrash.contains(unit) {
            schedule(.workerCrash(worker: i, epoch: workers[i].epoch, poisoned: true), at: now + 5)
            return
        }
        if poisonHang.contains(unit) {
            count("poisonHang")
            log("w\(i) hangs on \(unit)")
            return  // until its connection is closed
        }
        var duration = (100 + Int64(ClusterSimulation.resultValue(of: unit) % 300)) * workers[i].spec.slowness
        if options.faults { duration += Int64.random(in: 0...50, using: &random) }
        let begin = max(now, workers[i].stalledUntil)
        schedule(.computeDone(worker: i, epoch: workers[i].epoch), at: begin + duration)
    }

    // MARK: Coordinator

    func coordinatorReceives(_ message: ToCoordinator, on id: UInt64) throws {
        guard coordinatorUp, let connection = connections[id], connection.coordinatorLife == coordinatorLife else { return }
        let worker = WorkerID(id)
        // After a break, or once the coordinator closed it, only the close notice gets through.
        if case .closed = message {} else if connection.broken || connection.closedByCoordinator { return }
        switch message {
        case .hello(let credits, let instance): try coordinator(.workerJoined(worker, credits: credits, instance: instance))
        case .heartbeat: try coordinator(.heartbeat(worker))
        case .credit(let credits): try coordinator(.credit(worker, credits: credits))
        case .result(let unit, let lease, let value): try coordinator(.result(worker, unit, lease), value: value)
        case .failure(let unit, let lease, let reason): try coordinator(.failure(worker, unit, lease, reason: reason))
        case .drain: try coordinator(.drain(worker))
        case .bye: try coordinator(.workerLeft(worker, graceful: true))
        case .closed: try coordinator(.workerLeft(worker, graceful: false))
        }
    }

    /// Feeds one event to the scheduler and carries out its actions as the real coordinator does:
    /// an event observed while they are carried out (a UNIT whose send fails closes its session)
    /// waits until the batch is done.
    func coordinator(_ event: SchedulerEvent, value: UInt64? = nil) throws {
        shellEvents.feed((event, value)) { entry in
            guard eventViolation == nil else { return }
            do {
                try handleNow(entry.event, value: entry.value)
            } catch {
                eventViolation = error as? Violation ?? Violation(message: "\(error)")
            }
        }
        guard !shellEvents.isHandling else { return }
        if let violation = eventViolation {
            eventViolation = nil
            throw violation
        }
        try feedProducer()
    }

    func handleNow(_ event: SchedulerEvent, value: UInt64?) throws {
        let actions = scheduler.handle(event, now: now)
        var sendFailed: Set<WorkerID> = []
        for action in actions {
            switch action {
            case .lease(let unit, let worker, let lease, _, let speculative):
                let id = worker.rawValue
                if sendFailed.contains(worker) {
                    // The case that crashed the coordinator: a lease decided before the close was seen.
                    count("leaseAfterSendFailed")
                    // What the real coordinator checks: the scheduler will hear of the close right after this batch.
                    guard shellEvents.isWaiting(where: { $0.event == .workerLeft(worker, graceful: false) }) else {
                        throw Violation(message: "lease of \(unit) to c\(id), whose session closed, and no .workerLeft waits for the scheduler")
                    }
                    log("lease \(unit) to c\(id) as \(lease.rawValue): its session closed in this batch; the scheduler hears after")
                    continue
                }
                if faultsActive, let connection = connections[id], !connection.broken, !connection.closedByCoordinator,
                   random.chance(0.02) {
                    // The worker reset the connection: the UNIT's write fails, and the coordinator closes
                    // the session in the middle of this batch. The scheduler hears of it after the batch;
                    // later leases of the batch to this worker go nowhere.
                    count("sendFails")
                    log("lease \(unit) to c\(id) as \(lease.rawValue): the send fails (connection reset)")
                    deliverClose(id, toCoordinator: false)
                    connections[id]!.broken = true
                    sendFailed.insert(worker)
                    try coordinator(.workerLeft(worker, graceful: false))
                    continue
                }
                log("lease \(unit) to c\(id) as \(lease.rawValue)\(speculative ? " (speculative)" : "")")
                send(.lease(unit, lease), on: id)
            case .accept(let unit, let worker, _):
                guard let value else { throw Violation(message: "accept of \(unit) not caused by a result") }
                log("accept \(unit) from c\(worker.rawValue)")
                try journal(unit, value: value)
            case .drop(let unit, _, _, let reason):
                if options.journalsDuplicates, let value { try journal(unit, value: value) }
                log("drop \(unit): \(reason)")
            case .markFailed(let unit, let reason):
                log("failed \(unit): \(reason)")
                guard journalAccepted[unit] == nil, journalFailed[unit] == nil else {
                    throw Violation(message: "\(unit) marked failed after it was journalled")
                }
                guard isPoison(unit) || bystanderLosses[unit, default: 0] >= limits.attemptsMax else {
                    throw Violation(message: "\(unit) is not poison but was marked failed: \(reason)")
                }
                if !isPoison(unit) {
                    count("bystanderFailed")
                    bystanderFailures.insert(unit)
                    log("\(unit) failed as a bystander of \(bystanderLosses[unit]!) worker deaths (accepted by the oracle)")
                }
                journalFailed[unit] = reason
            case .videoComplete(let video):
                log("video \(video) complete")
                guard completedVideos.insert(video).inserted else { throw Violation(message: "video \(video) completed twice") }
                for index in 0..<unitCounts[video] where journalAccepted[UnitID(video: video, index: index)] == nil
                    && journalFailed[UnitID(video: video, index: index)] == nil {
                    throw Violation(message: "video \(video) complete but unit \(index) is not journalled")
                }
            case .jobComplete:
                log("job complete")
                jobComplete = true
            case .disconnect(let worker, let reason):
                log("disconnect c\(worker.rawValue): \(reason)")
                deliverClose(worker.rawValue, toCoordinator: false)
                connections[worker.rawValue]?.closedByCoordinator = true
            case .workerDrained(let worker):
                send(.drained, on: worker.rawValue)
            }
        }
    }

    func journal(_ unit: UnitID, value: UInt64) throws {
        guard journalAccepted[unit] == nil, journalFailed[unit] == nil else {
            throw Violation(message: "\(unit) accepted twice (exactly-once broken)")
        }
        guard value == ClusterSimulation.resultValue(of: unit) else { throw Violation(message: "\(unit) accepted with a wrong value") }
        journalAccepted[unit] = value
    }

    /// The producer streams the archive: as many units as the scheduler wants, video by video.
    func feedProducer() throws {
        guard !feeding, coordinatorUp else { return }
        feeding = true
        defer { feeding = false }
        while scheduler.wantsMoreUnits && !producerExhausted {
            if producerVideo == unitCounts.count {
                producerExhausted = true
                try coordinator(.archiveExhausted)
                break
            }
            let video = producerVideo
            if planEarly[video] && producerPlanned.insert(video).inserted {
                try coordinator(.videoPlanned(video: video, units: unitCounts[video]))
            }
            if producerIndex < unitCounts[video] {
                try coordinator(.unitAvailable(UnitID(video: video, index: producerIndex)))
                producerIndex += 1
            } else {
                if producerPlanned.insert(video).inserted {
                    try coordinator(.videoPlanned(video: video, units: unitCounts[video]))
                }
                producerVideo += 1
                producerIndex = 0
            }
        }
    }

    func isPoison(_ unit: UnitID) -> Bool {
        poisonCrash.contains(unit) || poisonFail.contains(unit) || poisonHang.contains(unit)
    }

    func checkFinal() throws {
        for (video, count) in unitCounts.enumerated() {
            for index in 0..<count {
                let unit = UnitID(video: video, index: index)
                let poison = isPoison(unit)
                if poison && journalFailed[unit] == nil { throw Violation(message: "poison \(unit) was not marked failed") }
                if !poison && journalAccepted[unit] == nil && !bystanderFailures.contains(unit) {
                    throw Violation(message: "\(unit) has no accepted result")
                }
            }
            if !completedVideos.contains(video) { throw Violation(message: "video \(video) never completed") }
        }
        let journalled = journalAccepted.count + journalFailed.count
        let total = unitCounts.reduce(0, +)
        guard journalled == total else { throw Violation(message: "journal holds \(journalled) units, the archive \(total)") }
    }
}
