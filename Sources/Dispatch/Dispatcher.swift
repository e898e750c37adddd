import Foundation
import Geo
import Synchronization

/// The single owner of mutable dispatch state. Every operation takes the lock, computes, and returns;
/// no I/O happens under the lock, and the lock is never held across an `await`.
public final class Dispatcher: Sendable {
    /// Settings of the dispatch core.
    public struct Configuration: Sendable {
        /// How long a driver's location stays fresh (`DRIVER_TTL_SECONDS`).
        public var driverFreshness: Duration

        /// Creates a configuration.
        /// - Parameter driverFreshness: How long a location stays fresh; 30 s by default.
        public init(driverFreshness: Duration = .seconds(30)) {
            self.driverFreshness = driverFreshness
        }
    }

    private let state: Mutex<DriverRegistry>
    private let clock: any DispatchClock

    /// Creates a dispatcher with no drivers.
    /// - Parameters:
    ///   - configuration: Dispatch settings.
    ///   - clock: Where time comes from; tests pass a manual clock.
    public init(configuration: Configuration, clock: any DispatchClock = SystemClock()) {
        self.state = Mutex(DriverRegistry(freshness: configuration.driverFreshness))
        self.clock = clock
    }

    /// Applies a driver's location report. See `DriverRegistry.updateLocation(_:to:recordedAt:now:)`.
    public func updateLocation(
        _ id: DriverID,
        to location: Coordinate,
        recordedAt: Date?
    ) throws(DispatchError) -> LocationUpdateOutcome {
        let now = clock.now()
        return try state.withLock { registry throws(DispatchError) in
            try registry.updateLocation(id, to: location, recordedAt: recordedAt, now: now)
        }
    }

    /// Sets a driver's status. See `DriverRegistry.setStatus(_:to:now:)`.
    public func setStatus(_ id: DriverID, to status: DriverStatus) throws(DispatchError) -> Driver {
        let now = clock.now()
        return try state.withLock { registry throws(DispatchError) in
            try registry.setStatus(id, to: status, now: now)
        }
    }

    /// A driver by ID, or nil.
    public func driver(_ id: DriverID) -> Driver? {
        state.withLock { $0.driver(id) }
    }

    /// Available, fresh drivers nearest to a point. See `DriverRegistry.nearby(_:radius:limit:now:)`.
    public func nearbyDrivers(
        around center: Coordinate,
        radius: Meters,
        limit: Int
    ) throws(DispatchError) -> [SpatialIndex<DriverID>.Neighbor] {
        let now = clock.now()
        return try state.withLock { registry throws(DispatchError) in
            try registry.nearby(center, radius: radius, limit: limit, now: now)
        }
    }

    /// Expires stale drivers; called periodically so counts and memory follow the live fleet.
    /// - Returns: The drivers that went stale.
    @discardableResult
    public func expireStaleDrivers() -> [DriverID] {
        let now = clock.now()
        return state.withLock { $0.expireStale(now: now) }
    }

    /// Driver counts by state and the index's memory estimate, for metrics.
    public func fleetSnapshot() -> (counts: DriverCounts, indexMemoryBytes: Int) {
        let now = clock.now()
        return state.withLock { registry in
            (registry.counts(now: now), registry.indexMemoryBytes)
        }
    }
}
