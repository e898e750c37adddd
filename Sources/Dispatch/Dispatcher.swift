import Foundation
import Geo
import Synchronization

/// The single owner of mutable dispatch state. Every operation takes the lock, reads the clock (under
/// the lock, so time and order agree), applies the command to `DispatchState`, hands the resulting
/// events to the sink in order, and returns. No I/O happens under the lock, and the lock is never
/// held across an `await`.
public final class Dispatcher: Sendable {
    private let state: Mutex<DispatchState>
    private let clock: any DispatchClock
    private let rideIDs: any RideIDGenerator
    private let events: any DispatchEventSink

    /// The settings.
    public let configuration: DispatchConfiguration

    /// Creates a dispatcher with no drivers and no rides.
    /// - Parameters:
    ///   - configuration: Dispatch settings.
    ///   - clock: Where time comes from; tests pass a manual clock.
    ///   - rideIDs: Where ride IDs come from; tests pass a sequence.
    ///   - events: Where domain events go.
    ///   - roads: The service area's roads (`ROAD_GRAPH`), for `Ranking.eta`.
    public init(
        configuration: DispatchConfiguration,
        clock: any DispatchClock = SystemClock(),
        rideIDs: any RideIDGenerator = UUIDRideIDGenerator(),
        events: any DispatchEventSink = DiscardingEventSink(),
        roads: RoadGraph? = nil
    ) {
        self.configuration = configuration
        self.state = Mutex(DispatchState(configuration: configuration, roads: roads))
        self.clock = clock
        self.rideIDs = rideIDs
        self.events = events
    }

    /// Runs a command under the lock and publishes its events (with the rides they changed) before
    /// releasing it, so every ride's events reach the sink in sequence order.
    /// - Parameter operatorID: The operator running the command for a rider or driver, recorded on
    ///   its first event.
    private func command<Result: Sendable>(
        by operatorID: OperatorID? = nil,
        _ body: (inout DispatchState, Date) throws(DispatchError) -> Result
    ) throws(DispatchError) -> Acknowledged<Result> {
        try state.withLock { state throws(DispatchError) in
            // Read under the lock: commands apply in the order of their times, so no event is dated
            // before the one it follows.
            let now = clock.now()
            state.actingOperator = operatorID
            defer { state.actingOperator = nil }
            let result = try body(&state, now)
            return Acknowledged(value: result, receipt: Self.publish(from: &state, to: events))
        }
    }

    /// Hands the state's pending events to the sink, with the current value of each ride they concern.
    private static func publish(from state: inout DispatchState, to sink: any DispatchEventSink) -> PublishReceipt? {
        let produced = state.drainEvents()
        let statuses = state.drainStatusChanges()
        guard !produced.isEmpty || !statuses.isEmpty else { return nil }
        var seen = Set<RideID>()
        let rides = produced.compactMap { event in seen.insert(event.rideID).inserted ? state.ride(event.rideID) : nil }
        return sink.publish(EventBatch(events: produced, rides: rides, driverStatuses: statuses))
    }

    private func read<Result>(_ body: (borrowing DispatchState) -> Result) -> Result {
        state.withLock { body($0) }
    }

    // MARK: Drivers

    /// Applies a driver's location report. See `DriverRegistry.updateLocation(_:to:recordedAt:now:)`.
    public func updateLocation(
        _ id: DriverID,
        to location: Coordinate,
        recordedAt: Date?
    ) throws(DispatchError) -> LocationUpdateOutcome {
        try command { state, now throws(DispatchError) in
            try state.drivers.updateLocation(id, to: location, recordedAt: recordedAt, now: now)
        }.value
    }

    /// Sets a driver's status. See `DispatchState.setStatus(_:to:now:)`.
    /// - Returns: The driver, with the receipt of the stored change.
    public func setStatus(_ id: DriverID, to status: DriverStatus) throws(DispatchError) -> Acknowledged<Driver> {
        try command { state, now throws(DispatchError) in try state.setStatus(id, to: status, now: now) }
    }

    /// Remembers drivers stored as `offline`, at start-up. See `DriverRegistry.rememberOffline(_:)`.
    public func rememberOffline(_ ids: [DriverID]) {
        _ = try? command { state, _ in state.rememberOffline(ids) }
    }

    /// A driver by ID, or nil.
    public func driver(_ id: DriverID) -> Driver? {
        read { $0.drivers.driver(id) }
    }

    /// Available, fresh drivers nearest to a point. See `DriverRegistry.nearby(_:radius:limit:now:)`.
    public func nearbyDrivers(
        around center: Coordinate,
        radius: Meters,
        limit: Int
    ) throws(DispatchError) -> [SpatialIndex<DriverID>.Neighbor] {
        try command { state, now throws(DispatchError) in
            try state.drivers.nearby(center, radius: radius, limit: limit, now: now)
        }.value
    }

    /// The open offer a driver holds, if any.
    public func offer(heldBy driver: DriverID) -> Offer? {
        read { $0.offer(heldBy: driver) }
    }

    // MARK: Rides

    /// A rider asks for a ride. See `DispatchState.requestRide(_:idempotencyKey:id:now:)`.
    /// - Parameter operatorID: The operator asking for the rider, if one is (support).
    public func requestRide(
        _ request: RideRequest,
        idempotencyKey: String?,
        operatorID: OperatorID? = nil
    ) throws(DispatchError) -> Acknowledged<RideCreation> {
        let id = rideIDs.next()
        return try command(by: operatorID) { state, now throws(DispatchError) in
            let (ride, created) = try state.requestRide(request, idempotencyKey: idempotencyKey, id: id, now: now)
            return RideCreation(ride: ride, created: created)
        }
    }

    /// A ride by ID, or nil.
    public func ride(_ id: RideID) -> Ride? {
        read { $0.ride(id) }
    }

    /// The rider cancels. See `DispatchState.cancelByRider(_:rider:now:)`.
    /// - Parameter operatorID: The operator cancelling for the rider, if one is (support).
    public func cancel(
        _ id: RideID,
        byRider rider: RiderID,
        operatorID: OperatorID? = nil
    ) throws(DispatchError) -> Acknowledged<Ride> {
        try command(by: operatorID) { state, now throws(DispatchError) in
            try state.cancelByRider(id, rider: rider, now: now)
        }
    }

    /// The assigned driver gives the ride up. See `DispatchState.cancelByDriver(_:driver:now:)`.
    /// - Parameter operatorID: The operator cancelling for the driver, if one is (support).
    public func cancel(
        _ id: RideID,
        byDriver driver: DriverID,
        operatorID: OperatorID? = nil
    ) throws(DispatchError) -> Acknowledged<Ride> {
        try command(by: operatorID) { state, now throws(DispatchError) in
            try state.cancelByDriver(id, driver: driver, now: now)
        }
    }

    /// A driver acts on a ride: accept, decline, arrive, start or complete.
    /// - Parameter operatorID: The operator acting for the driver, if one is (support).
    public func perform(
        _ action: DriverAction,
        on id: RideID,
        by driver: DriverID,
        operatorID: OperatorID? = nil
    ) throws(DispatchError) -> Acknowledged<Ride> {
        try command(by: operatorID) { state, now throws(DispatchError) in
            switch action {
            case .accept: try state.accept(id, by: driver, now: now)
            case .decline: try state.decline(id, by: driver, now: now)
            case .arrive: try state.arrive(id, by: driver, now: now)
            case .start: try state.start(id, by: driver, now: now)
            case .complete: try state.complete(id, by: driver, now: now)
            }
        }
    }

    /// An operator ends a ride with a reason. See `DispatchState.end(_:as:reason:now:)`.
    public func end(
        _ id: RideID,
        as ending: RideEnding,
        reason: String,
        operatorID: OperatorID
    ) throws(DispatchError) -> Acknowledged<Ride> {
        try command(by: operatorID) { state, now throws(DispatchError) in
            try state.end(id, as: ending, reason: reason, now: now)
        }
    }

    /// Forgets a ride storage refused to create. See `DispatchState.discard(_:now:)`.
    @discardableResult
    public func discard(_ id: RideID) -> Bool {
        (try? command { state, now in state.discard(id, now: now) })?.value ?? false
    }

    /// Rides in memory that match a predicate (for trip history without a database).
    public func rides(where predicate: (Ride) -> Bool) -> [Ride] {
        read { state in state.rides.values.filter(predicate) }
    }

    /// Restores unfinished rides after a restart. See `DispatchState.restore(_:now:)`.
    /// - Returns: Problems with rides that could not be restored, for the log.
    @discardableResult
    public func restore(_ rides: [Ride]) -> [String] {
        (try? command { state, now in state.restore(rides, now: now) })?.value ?? []
    }

    // MARK: Time

    /// Fires every timer that is due (offer expiries, widening, retries, batches, search timeouts) and
    /// expires stale drivers.
    /// - Returns: When the next timer is due, if any.
    @discardableResult
    public func tick() -> (nextDeadline: Date?, expiredDrivers: [DriverID]) {
        // `command` only throws what its body throws, and this body throws nothing.
        let outcome = try? command { state, now in
            state.tick(now: now)
            return TickOutcome(nextDeadline: state.nextDeadline, expiredDrivers: state.drivers.expireStale(now: now))
        }
        return (outcome?.value.nextDeadline, outcome?.value.expiredDrivers ?? [])
    }

    /// Pauses dispatch while commands cannot be made durable. See `DispatchState.pause(now:)`.
    public func pause() {
        _ = try? command { state, now in state.pause(now: now) }
    }

    /// Resumes dispatch, every deadline moved by the pause. See `DispatchState.resume(now:)`.
    public func resume() {
        _ = try? command { state, now in state.resume(now: now) }
    }

    /// Whether dispatch is paused.
    public var isPaused: Bool {
        read { $0.isPaused }
    }

    /// Expires stale drivers; called periodically so counts and memory follow the live fleet.
    /// - Returns: The drivers that went stale.
    @discardableResult
    public func expireStaleDrivers() -> [DriverID] {
        (try? command { state, now in state.drivers.expireStale(now: now) })?.value ?? []
    }

    /// The service's current time, by its clock.
    public func now() -> Date { clock.now() }

    /// Those of `ids` the dispatcher no longer knows (forgotten, or never seen), under one lock.
    public func unknownDrivers(among ids: [DriverID]) -> [DriverID] {
        read { state in ids.filter { state.drivers.driver($0) == nil } }
    }

    /// The drivers at work now (see `DriverRegistry.working(now:)`): O(drivers) under the lock.
    public func workingDrivers() -> [DriverID] {
        state.withLock { state in state.drivers.working(now: clock.now()) }
    }

    /// The drivers and rides that changed since `position`, for the operators' map: O(changes) under
    /// the lock (see `CityChanges` and `DispatchState.cityChanges(since:now:)`).
    public func cityChanges(since position: CityChanges.Position?) -> CityChanges {
        state.withLock { state in state.cityChanges(since: position, now: clock.now()) }
    }

    /// Counts for metrics: drivers by state, rides searching, and the index's memory estimate.
    public func snapshot() -> DispatchSnapshot {
        (try? command { state, now in
            DispatchSnapshot(
                drivers: state.drivers.counts(now: now),
                driversKnown: state.drivers.count,
                driversForgotten: state.drivers.forgottenCount,
                ridesOpen: state.openRideCount,
                ridesSearching: state.searchingCount,
                ridesInMemory: state.rides.count,
                indexMemoryBytes: state.drivers.indexMemoryBytes
            )
        })?.value ?? DispatchSnapshot()
    }
}

/// The outcome of a ride request.
public struct RideCreation: Sendable {
    /// The ride.
    public let ride: Ride
    /// False when an idempotency key returned a ride created earlier.
    public let created: Bool
}

private struct TickOutcome: Sendable {
    let nextDeadline: Date?
    let expiredDrivers: [DriverID]
}

/// What a driver can do to a ride it was offered or holds.
public enum DriverAction: String, Hashable, Sendable, CaseIterable {
    case accept, decline, arrive, start, complete
}

/// Counts for metrics.
public struct DispatchSnapshot: Hashable, Sendable {
    /// Drivers by state.
    public var drivers = DriverCounts()
    /// Drivers remembered, against `DispatchConfiguration.maximumDrivers`.
    public var driversKnown = 0
    /// Drivers forgotten after falling silent, since start-up.
    public var driversForgotten = 0
    /// Unfinished rides, against `DispatchConfiguration.maximumOpenRides`.
    public var ridesOpen = 0
    /// Rides searching for a driver with no open offer.
    public var ridesSearching = 0
    /// Rides held in memory (unfinished, and finished within the retention period).
    public var ridesInMemory = 0
    /// The spatial index's estimated heap memory.
    public var indexMemoryBytes = 0
}
