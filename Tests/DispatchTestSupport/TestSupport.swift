import DispatchCore
import Foundation
import Synchronization

/// Ride IDs `ride-1`, `ride-2`, … in order.
public final class SequentialRideIDs: RideIDGenerator {
    private let counter = Mutex(0)

    public init() {}

    public func next() -> RideID {
        let number = counter.withLock { value in
            value += 1
            return value
        }
        // Test code: the format always satisfies the ID rule.
        return try! RideID("ride-\(number)")
    }
}

/// Keeps every published event, in order.
public final class RecordingEventSink: DispatchEventSink {
    private let recorded = Mutex<[RideEvent]>([])

    public init() {}

    public func publish(_ batch: EventBatch) -> PublishReceipt? {
        recorded.withLock { $0.append(contentsOf: batch.events) }
        return nil
    }

    /// Every event so far.
    public var events: [RideEvent] { recorded.withLock { $0 } }
}
