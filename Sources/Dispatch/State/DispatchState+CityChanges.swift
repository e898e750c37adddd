import Foundation

extension DispatchState {
    /// The drivers and rides that changed since `position`, for the operators' map (see `CityChanges`):
    /// for one reader, which the journals follow from its first call (`ChangeJournal`).
    ///
    /// Stale drivers are expired first, so a driver that fell silent is among the changes as it goes
    /// stale, and the map's counts agree with `driverCounts(now:)`.
    /// - Parameters:
    ///   - position: Where the reader is (from its last read), or nil for everything.
    ///   - now: The service's current time.
    /// - Complexity: O(changes since `position`); O(drivers + unfinished rides) when complete.
    public mutating func cityChanges(since position: CityChanges.Position?, now: Date) -> CityChanges {
        drivers.expireStale(now: now)
        // Both journals are asked, so that both follow from here even when one cannot answer.
        let driverIDs = drivers.takeChanges(since: position?.drivers)
        let rideIDs = rideChanges.take(since: position?.rides)
        let current = CityChanges.Position(drivers: drivers.changeSequence, rides: rideChanges.sequence)
        guard let driverIDs, let rideIDs else {
            return CityChanges(
                at: now,
                position: current,
                isComplete: true,
                drivers: Array(drivers.drivers.values),
                driversGone: [],
                rides: activeRideByRider.values.compactMap { rides[$0] },
                ridesGone: [],
                freshness: configuration.driverFreshness
            )
        }
        var changedDrivers: [Driver] = []
        var driversGone: [DriverID] = []
        changedDrivers.reserveCapacity(driverIDs.count)
        for id in driverIDs {
            if let driver = drivers.driver(id) { changedDrivers.append(driver) } else { driversGone.append(id) }
        }
        var changedRides: [Ride] = []
        var ridesGone: [RideID] = []
        for id in rideIDs {
            if let ride = rides[id] { changedRides.append(ride) } else { ridesGone.append(id) }
        }
        return CityChanges(
            at: now,
            position: current,
            isComplete: false,
            drivers: changedDrivers,
            driversGone: driversGone,
            rides: changedRides,
            ridesGone: ridesGone,
            freshness: configuration.driverFreshness
        )
    }
}
