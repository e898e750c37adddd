/// Where the dispatcher hands its domain events, in order: the port the server implements (event
/// streams now, persistence later).
public protocol DispatchEventSink: Sendable {
    /// Takes the events of one command, in order.
    ///
    /// Called while the dispatcher holds its lock, which is what keeps every ride's events in sequence
    /// order: implementations must only buffer or hand off (no I/O, no waiting), and must not call back
    /// into the dispatcher.
    func publish(_ events: [RideEvent])
}

/// A sink that drops everything, for benchmarks and tests that do not look at events.
public struct DiscardingEventSink: DispatchEventSink {
    /// Creates the sink.
    public init() {}

    public func publish(_ events: [RideEvent]) {}
}
