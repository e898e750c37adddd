import DequeModule
import Foundation
import Geo
import HeapModule

/// Everything the dispatcher knows, as one plain value: drivers, rides, timers, idempotency keys.
///
/// Every command takes `now` and either throws (changing nothing) or applies its transitions and
/// appends their domain events to `pendingEvents`, which the owner (`Dispatcher`) drains after each
/// command. No clock, no I/O, no locks: tests drive it with scripted times.
public struct DispatchState: Sendable {
    /// The settings.
    public let configuration: DispatchConfiguration
    /// The drivers and the spatial index of those available.
    public internal(set) var drivers: DriverRegistry
    /// Rides in memory: every unfinished ride, and finished ones for `finishedRideRetention`.
    public internal(set) var rides: [RideID: Ride] = [:]
    /// The unfinished ride of each rider.
    var activeRideByRider: [RiderID: RideID] = [:]
    /// Idempotency keys of ride creation, each rider's own, with the request they were first used for.
    var idempotencyKeys: [IdempotencyKey: (request: RideRequest, rideID: RideID)] = [:]
    /// Rides searching for a driver without an open offer.
    var searching: Set<RideID> = []
    /// Timers, soonest first. Stale entries (the ride moved on) are skipped when they fire.
    var timers = Heap<Timer>()
    var timerCount: UInt64 = 0
    /// When the next batch runs, in batch mode, while rides are waiting for one.
    var nextBatch: Date?
    /// Finished rides, oldest first, for eviction after the retention period.
    var finished: Deque<(rideID: RideID, at: Date)> = []
    /// Since when dispatch is paused (`pause(now:)`), or nil while it runs.
    var pausedSince: Date?
    /// Events produced by the current command, in order.
    var pendingEvents: [RideEvent] = []
    /// Drivers' status changes made by the current command, to be stored.
    var pendingStatusChanges: [DriverStatusChange] = []
    /// Every change to a ride (each event names its ride; a ride restored or discarded, too), for the
    /// operators' map to follow (`cityChanges(since:now:)`).
    var rideChanges: ChangeJournal<RideID>
    /// The operator running the current command for a rider or driver, until its first event names
    /// them (`Dispatcher` sets it around the command).
    var actingOperator: OperatorID?

    /// Travel times by road, when the service has a road graph (`ROAD_GRAPH`): what `Ranking.eta`
    /// ranks by. Its search arrays are reused from one ride to the next.
    var roads: RoadRouter?

    /// Creates an empty state.
    /// - Parameters:
    ///   - configuration: The settings.
    ///   - roads: The service area's roads, if known: candidates are timed on them under `Ranking.eta`.
    public init(configuration: DispatchConfiguration, roads: RoadGraph? = nil) {
        self.configuration = configuration
        self.roads = roads.map { RoadRouter(graph: $0) }
        self.drivers = DriverRegistry(
            freshness: configuration.driverFreshness,
            maximumReportAge: configuration.locationMaximumAge,
            forgetAfter: configuration.driverForgetAfter,
            maximumDrivers: configuration.maximumDrivers,
            journalCapacity: configuration.changeJournalCapacity
        )
        self.rideChanges = ChangeJournal(capacity: configuration.changeJournalCapacity)
    }

    /// Takes the events produced since the last call.
    public mutating func drainEvents() -> [RideEvent] {
        defer { pendingEvents.removeAll(keepingCapacity: true) }
        return pendingEvents
    }

    /// Takes the driver status changes made since the last call.
    public mutating func drainStatusChanges() -> [DriverStatusChange] {
        defer { pendingStatusChanges.removeAll() }
        return pendingStatusChanges
    }

    /// A ride by ID, or nil.
    public func ride(_ id: RideID) -> Ride? {
        rides[id]
    }

    /// Applies a driver's location report. See `DriverRegistry.updateLocation(_:to:recordedAt:now:)`.
    public mutating func updateLocation(
        _ id: DriverID,
        to location: Coordinate,
        recordedAt: Date?,
        now: Date
    ) throws(DispatchError) -> LocationUpdateOutcome {
        try drivers.updateLocation(id, to: location, recordedAt: recordedAt, now: now)
    }

    /// Sets a driver's status (see `DriverRegistry.setStatus(_:to:now:)`), recording the change to be
    /// stored.
    public mutating func setStatus(_ id: DriverID, to status: DriverStatus, now: Date) throws(DispatchError) -> Driver {
        let driver = try drivers.setStatus(id, to: status, now: now)
        pendingStatusChanges.append(DriverStatusChange(driverID: id, status: status, at: now))
        return driver
    }

    /// Remembers drivers stored as `offline` (at start-up). See `DriverRegistry.rememberOffline(_:)`.
    public mutating func rememberOffline(_ ids: [DriverID]) {
        drivers.rememberOffline(ids)
    }

    /// Drivers by state, after expiring (and forgetting) what is due. See `DriverRegistry.counts(now:)`.
    public mutating func driverCounts(now: Date) -> DriverCounts {
        drivers.counts(now: now)
    }

    /// The number of unfinished rides.
    public var openRideCount: Int { activeRideByRider.count }

    /// The number of rides searching for a driver (with no open offer).
    public var searchingCount: Int { searching.count }

    // MARK: Events

    /// Records one domain event for a ride whose state has just changed; `ride` gets the next sequence.
    mutating func emit(
        _ kind: RideEvent.Kind,
        for ride: inout Ride,
        at now: Date,
        driver: DriverID? = nil,
        offer: Offer? = nil,
        searchRadius: Meters? = nil,
        pickupDistance: Meters? = nil,
        reason: String? = nil
    ) {
        ride.sequence += 1
        rideChanges.record(ride.id)
        pendingEvents.append(
            RideEvent(
                rideID: ride.id,
                riderID: ride.riderID,
                sequence: ride.sequence,
                kind: kind,
                at: now,
                status: ride.status,
                driverID: driver,
                offer: offer,
                searchRadius: searchRadius,
                pickupDistance: pickupDistance,
                // The command's first event is the act itself; what follows from it is the service's.
                operatorID: actingOperator.take(),
                reason: reason
            )
        )
    }

    /// An `Idempotency-Key` in its rider's scope: two riders may use the same key.
    struct IdempotencyKey: Hashable, Sendable {
        let rider: RiderID
        let key: String
    }

    // MARK: Timers

    /// A deadline the dispatcher acts on: `tick(now:)` fires every timer that is due.
    struct Timer: Comparable, Sendable {
        enum Kind: Hashable, Sendable {
            case offerExpiry(DriverID)
            case searchTimeout
            case widenSearch
            case retrySearch
            case batch
            /// The assigned driver must have arrived by now (watchdog).
            case pickupDeadline(DriverID)
            /// The assigned driver must have reported since `at − assignedDriverTTL` (watchdog).
            case driverSilence(DriverID)
            /// The trip must have ended by now (watchdog).
            case tripDeadline(DriverID)
        }

        let at: Date
        let order: UInt64
        let rideID: RideID?
        let kind: Kind

        static func < (lhs: Timer, rhs: Timer) -> Bool {
            (lhs.at, lhs.order) < (rhs.at, rhs.order)
        }

        static func == (lhs: Timer, rhs: Timer) -> Bool {
            lhs.order == rhs.order
        }
    }

    mutating func schedule(_ kind: Timer.Kind, at: Date, ride: RideID?) {
        timerCount += 1
        timers.insert(Timer(at: at, order: timerCount, rideID: ride, kind: kind))
    }

    /// When the next timer is due, if any; the owner sleeps until then.
    public var nextDeadline: Date? { timers.min?.at }
}
