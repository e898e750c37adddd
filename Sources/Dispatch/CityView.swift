import Foundation
import Geo

/// Every driver and every ride the dispatcher holds, at one moment: what an operator's map draws.
///
/// Taking one costs O(1) under the dispatcher's lock: the collections are copy-on-write values, so the
/// view shares the state's storage until the next command changes it.
public struct CityView: Sendable {
    /// When the view was taken, by the service's clock.
    public let at: Date
    /// Every driver known, by ID.
    public let drivers: [DriverID: Driver]
    /// Every ride held in memory (unfinished, and finished within the retention period), by ID.
    public let rides: [RideID: Ride]
    /// How long a location stays fresh (`DispatchConfiguration.driverFreshness`): an available driver not
    /// heard from for longer is stale.
    public let freshness: Duration

    /// Whether an available driver has not reported within `freshness` at the view's time.
    public func isStale(_ driver: Driver) -> Bool {
        Self.isStale(driver, at: at, freshness: freshness)
    }

    /// Whether an available driver has not reported within `freshness` at `now`: the dispatcher's own
    /// rule (`DriverRegistry.isFresh`), for a driver read on its own.
    public static func isStale(_ driver: Driver, at now: Date, freshness: Duration) -> Bool {
        driver.status == .available && now.timeIntervalSince(driver.updatedAt) >= freshness.timeInterval
    }
}
