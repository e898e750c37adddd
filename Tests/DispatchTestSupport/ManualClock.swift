import DispatchCore
import Foundation
import Synchronization

/// A clock that moves only when a test says so.
public final class ManualClock: DispatchClock {
    private let current: Mutex<Date>

    /// Creates a clock stopped at `start`.
    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Date {
        current.withLock { $0 }
    }

    /// Moves time forward.
    public func advance(by interval: TimeInterval) {
        current.withLock { $0 += interval }
    }
}
