// Feeding a state machine from a shell that can observe new events while it carries out the
// actions of the last one: a send that fails closes its session, and the close is an event.
// Handling that event inside the loop over the previous actions would let the remaining
// actions see a world the decision did not (a lease to a worker already gone). Here such
// events wait and are handled after, in order, so every batch of actions is carried out
// against the state it was decided in. The coordinator and the simulation's shell share it.

/// A re-entrancy-safe event queue: `feed` handles the event now, or, when called from inside
/// a handler, queues it to be handled right after the current one.
public final class EventFeed<Event> {
    private var waiting: [Event] = []
    private var handling = false

    public init() {}

    /// Whether an event is being handled now (a caller inside a handler).
    public var isHandling: Bool { handling }

    /// Handles `event` with `handle`, then every event fed meanwhile, in order. Called from
    /// inside `handle`, it only queues.
    public func feed(_ event: Event, _ handle: (Event) -> Void) {
        waiting.append(event)
        guard !handling else { return }
        handling = true
        defer { handling = false }
        while !waiting.isEmpty {
            handle(waiting.removeFirst())
        }
    }

    /// Whether an event matching `predicate` waits to be handled.
    public func isWaiting(where predicate: (Event) -> Bool) -> Bool {
        waiting.contains(where: predicate)
    }
}
