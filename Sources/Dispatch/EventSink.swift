import Foundation

/// The events of one command, with the rides they changed (their state after the command) and the
/// driver status changes that must outlive a restart.
public struct EventBatch: Sendable {
    /// The events, in order.
    public let events: [RideEvent]
    /// Each ride the events belong to, as it is after them.
    public let rides: [Ride]
    /// Drivers' explicit status changes (`available`, `offline`), in order.
    public let driverStatuses: [DriverStatusChange]

    /// Creates a batch.
    public init(events: [RideEvent], rides: [Ride], driverStatuses: [DriverStatusChange] = []) {
        self.events = events
        self.rides = rides
        self.driverStatuses = driverStatuses
    }
}

/// A driver set its own status: what is stored so that a restart never makes an offline driver
/// available.
public struct DriverStatusChange: Hashable, Sendable {
    /// The driver.
    public let driverID: DriverID
    /// `available` or `offline`.
    public let status: DriverStatus
    /// When, by the service's clock.
    public let at: Date

    /// Creates a change.
    public init(driverID: DriverID, status: DriverStatus, at: Date) {
        self.driverID = driverID
        self.status = status
        self.at = at
    }
}

/// A sink's receipt for a batch: a position in its log, for waiting until the batch is durable.
public struct PublishReceipt: Hashable, Comparable, Sendable {
    /// The batch's position; later batches have larger positions.
    public let position: UInt64

    /// Creates a receipt.
    public init(position: UInt64) {
        self.position = position
    }

    public static func < (lhs: PublishReceipt, rhs: PublishReceipt) -> Bool { lhs.position < rhs.position }
}

/// Where the dispatcher hands its domain events, in order: the port the server implements (event
/// streams, metrics, persistence).
public protocol DispatchEventSink: Sendable {
    /// Takes the events of one command, in order.
    ///
    /// Called while the dispatcher holds its lock, which is what keeps every ride's events in sequence
    /// order: implementations must only buffer or hand off (no I/O, no waiting), and must not call back
    /// into the dispatcher.
    /// - Returns: A receipt to wait on for durability, from sinks that persist; nil otherwise.
    func publish(_ batch: EventBatch) -> PublishReceipt?
}

/// A sink that drops everything, for benchmarks and tests that do not look at events.
public struct DiscardingEventSink: DispatchEventSink {
    /// Creates the sink.
    public init() {}

    public func publish(_ batch: EventBatch) -> PublishReceipt? { nil }
}

/// The outcome of a command, with the receipt of its events for a caller that must wait until they
/// are durable before answering.
public struct Acknowledged<Value: Sendable>: Sendable {
    /// What the command returned.
    public let value: Value
    /// The receipt of the command's events, when a persisting sink took them.
    public let receipt: PublishReceipt?
}
