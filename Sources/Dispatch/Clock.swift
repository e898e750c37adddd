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
