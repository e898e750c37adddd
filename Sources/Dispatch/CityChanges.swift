import Foundation
import Geo

/// What changed in the city since a reader last looked: the drivers and rides an operator's map draws.
///
/// The reader (there is one: the operators' map) keeps `position` and passes it back next time
/// (`Dispatcher.cityChanges(since:)`), so each read costs what changed since, not the whole fleet. The
/// first read, and one from a reader that fell further behind than the dispatcher's journals hold
/// (`DispatchConfiguration.changeJournalCapacity`), is complete instead: every driver and every
/// unfinished ride, and the reader starts over from it. The journals hold nothing while nobody reads.
public struct CityChanges: Sendable {
    /// Where a reader is in the journals of drivers and rides.
    public struct Position: Hashable, Sendable {
        /// The last change to drivers seen.
        public let drivers: UInt64
        /// The last change to rides seen.
        public let rides: UInt64
    }

    /// When the changes were read, by the service's clock.
    public let at: Date
    /// Where to read from next time.
    public let position: Position
    /// True when `drivers` and `rides` are everything (and nothing is gone): the reader replaces what
    /// it holds with them.
    public let isComplete: Bool
    /// Each driver that changed, as it is now (once per change: one that changed twice is here twice).
    public let drivers: [Driver]
    /// Drivers forgotten since (the service no longer knows them).
    public let driversGone: [DriverID]
    /// Each ride that changed, as it is now, finished ones included so that the reader drops them (once
    /// per change); in a complete read, every unfinished ride. A change is an event (status, offer,
    /// driver, search radius): the times of a ride's next retry or widening change without one.
    public let rides: [Ride]
    /// Rides that changed and are no longer held (discarded, or finished and past their retention).
    public let ridesGone: [RideID]
    /// How long a location stays fresh (`DispatchConfiguration.driverFreshness`): an available driver not
    /// heard from for longer is stale.
    public let freshness: Duration

    /// Whether an available driver has not reported within `freshness` at the time of the read.
    public func isStale(_ driver: Driver) -> Bool {
        Self.isStale(driver, at: at, freshness: freshness)
    }

    /// Whether an available driver has not reported within `freshness` at `now`: the dispatcher's own
    /// rule (`DriverRegistry.isFresh`), for a driver read on its own.
    public static func isStale(_ driver: Driver, at now: Date, freshness: Duration) -> Bool {
        driver.status == .available && now.timeIntervalSince(driver.updatedAt) >= freshness.timeInterval
    }
}
