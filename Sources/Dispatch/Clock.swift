import Foundation

/// Where `DispatchCore` gets the time: injected, so tests drive time by hand and never sleep.
public protocol DispatchClock: Sendable {
    /// The current wall-clock time.
    func now() -> Date
}

/// The real clock: the wall-clock time at start-up, advanced by the monotonic clock.
///
/// Every deadline, TTL and timer in dispatch is a `Date` from this clock, so it must never jump: an
/// NTP step of the wall clock (or an operator setting it) would otherwise expire every offer and
/// every driver at once, or freeze them. Timestamps shown and stored come from the same clock, so
/// they follow the wall clock's rate (the kernel slews both alike) but not its steps;
/// `wallClockOffset` says how far apart they have drifted, for the operators' metric.
public struct SystemClock: DispatchClock {
    private let wallAtStart: Date
    private let started: ContinuousClock.Instant

    /// Creates the system clock, anchored to the wall clock now.
    public init() {
        started = ContinuousClock.now
        wallAtStart = Date()
    }

    /// The current time: never earlier than the last answer, whatever the wall clock does.
    public func now() -> Date {
        wallAtStart + (ContinuousClock.now - started).timeInterval
    }

    /// The wall clock minus this clock, in seconds: zero until the wall clock is stepped.
    public var wallClockOffset: TimeInterval {
        Date().timeIntervalSince(now())
    }
}

/// Where new ride IDs come from: injected, so tests get predictable IDs.
public protocol RideIDGenerator: Sendable {
    /// A new, never-used ride ID.
    func next() -> RideID
}

/// Random UUIDs, lower case: unique across restarts and instances without coordination.
public struct UUIDRideIDGenerator: RideIDGenerator {
    /// Creates the generator.
    public init() {}

    /// A new random ride ID.
    public func next() -> RideID {
        // A lower-case UUID always satisfies the ID rule.
        (try? RideID(UUID().uuidString.lowercased())) ?? RideID(unchecked: UUID().uuidString)
    }
}

extension RideID {
    init(unchecked rawValue: String) {
        self.rawValue = rawValue
    }
}
