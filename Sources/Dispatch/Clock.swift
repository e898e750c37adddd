import Foundation

/// Where `DispatchCore` gets the time: injected, so tests drive time by hand and never sleep.
public protocol DispatchClock: Sendable {
    /// The current wall-clock time.
    func now() -> Date
}

/// The real clock.
public struct SystemClock: DispatchClock {
    /// Creates the system clock.
    public init() {}

    /// The current wall-clock time.
    public func now() -> Date { Date() }
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
