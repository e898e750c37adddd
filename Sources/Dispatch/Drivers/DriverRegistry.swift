import DequeModule
import Foundation
import Geo

/// Every driver the service has heard from, and the spatial index of those that can take a ride now.
///
/// A plain value with no locking and no clock: every method takes `now`, so tests script time. The
/// owner (`Dispatcher`) serialises access.
///
/// Only *eligible* drivers, `available` and fresh, are in `index`, so a nearby query needs no
/// filtering. Freshness is enforced exactly: `expireStale(now:)` runs before every query, and drivers
/// are expired in the order of their last update from a FIFO queue, O(1) amortised per update (the TTL
/// is the same for everyone, so the queue is sorted by construction).
public struct DriverRegistry: Sendable {
    /// How long a location stays fresh.
    public let freshness: Duration
    /// How old a report's fix may be when it is applied to a driver that is already fresh; older
    /// reports are dropped, because a newer one is on its way (nil: never dropped for age).
    public let maximumReportAge: Duration?
    /// How far in the future a `recordedAt` may be before it is refused as a broken device clock: a
    /// fix dated later would pin the driver's position until then, since earlier fixes are ignored.
    public static let maximumClockSkew: TimeInterval = 10

    /// How long after its last report a driver that holds no offer or ride is forgotten entirely
    /// (nil: never), so that drivers who stop reporting, or IDs that report once, never fill memory.
    public let forgetAfter: Duration?
    /// The most drivers remembered at once (nil: no ceiling); a report from one more is refused with
    /// `capacityExhausted`.
    public let maximumDrivers: Int?

    private(set) var drivers: [DriverID: Driver] = [:]
    private(set) var index: SpatialIndex<DriverID>
    /// (driver, updatedAt) per applied update, oldest first; entries superseded by a later update are
    /// skipped when they reach the front.
    private var expiryQueue: Deque<(id: DriverID, updatedAt: Date)> = []
    /// (driver, updatedAt) of drivers gone stale, in the order they went (roughly oldest first: a
    /// driver released from a ride while stale joins at the back), to forget after `forgetAfter`.
    private var forgetQueue: Deque<(id: DriverID, updatedAt: Date)> = []
    /// Drivers by status, kept as they change, so that counting them never walks every driver.
    private var byStatus = DriverCounts()
    /// Drivers known to be `offline` but not held in memory (forgotten after falling silent, or not yet
    /// heard from since a restart): such a driver comes back `offline`, not `available`, when it
    /// reports again. At most `maximumDrivers` of them: past that, the longest remembered is let go.
    private(set) var offlineAbsent: Set<DriverID> = []
    /// `offlineAbsent` in the order remembered (entries of drivers who have come back are skipped).
    private var offlineAbsentOrder: Deque<DriverID> = []
    /// Every change to a driver as a map draws it: stored (reported, changed status, took or left a
    /// ride), gone stale, or forgotten. The operators' console follows the fleet by it
    /// (`DispatchState.cityChanges(since:now:)`), at a cost that grows with what changed, not with the fleet.
    private var changes: ChangeJournal<DriverID>

    /// The number of the last change to a driver.
    var changeSequence: UInt64 { changes.sequence }

    /// The drivers changed after change number `sequence`, for the one reader that follows them (see
    /// `ChangeJournal.take(since:)`); nil when it must read every driver.
    mutating func takeChanges(since sequence: UInt64?) -> [DriverID]? {
        changes.take(since: sequence)
    }

    /// Creates an empty registry.
    /// - Parameters:
    ///   - freshness: How long after its last update a driver stays in answers.
    ///   - cellSize: The spatial index's cell size; nil for the index's measured default.
    ///   - maximumReportAge: How old a report may be when it would be applied to a fresh driver.
    ///   - forgetAfter: How long after its last report an idle driver is forgotten (nil: never).
    ///   - maximumDrivers: The most drivers remembered at once (nil: no ceiling).
    ///   - journalCapacity: How many changes `changes` keeps.
    public init(
        freshness: Duration,
        cellSize: Meters? = nil,
        maximumReportAge: Duration? = nil,
        forgetAfter: Duration? = nil,
        maximumDrivers: Int? = nil,
        journalCapacity: Int = ChangeJournal<DriverID>.defaultCapacity
    ) {
        self.freshness = freshness
        self.maximumReportAge = maximumReportAge
        self.forgetAfter = forgetAfter
        self.maximumDrivers = maximumDrivers
        self.changes = ChangeJournal(capacity: journalCapacity)
        self.index = cellSize.map { SpatialIndex(cellSize: $0) } ?? SpatialIndex()
    }

    /// How many drivers are remembered.
    public var count: Int { drivers.count }

    /// Stores a driver, keeping `byStatus` and the journal in step.
    private mutating func store(_ driver: Driver) {
        if let previous = drivers.updateValue(driver, forKey: driver.id) { byStatus.add(previous.status, -1) }
        byStatus.add(driver.status, 1)
        changes.record(driver.id)
    }

    private var freshnessInterval: TimeInterval { freshness.timeInterval }

    /// Whether a driver's location is still fresh at `now`.
    public func isFresh(_ driver: Driver, now: Date) -> Bool {
        now.timeIntervalSince(driver.updatedAt) < freshnessInterval
    }

    /// The drivers at work at `now`: available and fresh, or holding an offer or a ride (what a
    /// driver-hour counts, for the fairness metrics).
    /// - Complexity: O(drivers known).
    public func working(now: Date) -> [DriverID] {
        drivers.values.compactMap { driver in
            switch driver.status {
            case .offline: nil
            case .available: isFresh(driver, now: now) ? driver.id : nil
            case .offered, .enRoute, .onTrip: driver.id
            }
        }
    }

    // MARK: Commands

    /// Applies a location report.
    ///
    /// A driver not seen before becomes `available`. A report whose time (`recordedAt`, else `now`) is
    /// earlier than the driver's last applied one is ignored, so out-of-order GPS never moves a driver
    /// backwards; it does not refresh the driver either. A report whose fix is older than
    /// `maximumReportAge` is dropped when the driver's position is still fresh: it arrived late (queued
    /// in the network or the app), and the driver's next report is newer. A driver with no fresh
    /// position still takes it, so a device whose clock lags by less than `freshness` is not locked
    /// out. A fix dated outside [now − `freshness`, now + `maximumClockSkew`] is refused.
    /// - Parameters:
    ///   - id: The driver.
    ///   - location: The reported position.
    ///   - recordedAt: When the device took the fix, if it said.
    ///   - now: The service's current time.
    /// - Returns: Whether the update was applied.
    /// - Throws: `invalidRecordedAt` when `recordedAt` is more than `maximumClockSkew` ahead of `now`
    ///   or older than `freshness` (such a fix could not make the driver fresh anyway).
    public mutating func updateLocation(
        _ id: DriverID,
        to location: Coordinate,
        recordedAt: Date?,
        now: Date
    ) throws(DispatchError) -> LocationUpdateOutcome {
        let positionTime = recordedAt ?? now
        let age = now.timeIntervalSince(positionTime)
        guard age >= -Self.maximumClockSkew, age <= freshnessInterval else {
            throw DispatchError(
                .invalidRecordedAt,
                "recordedAt must lie within the last \(Int(freshnessInterval)) s and at most "
                    + "\(Int(Self.maximumClockSkew)) s ahead of the server's clock"
            )
        }
        let outcome: LocationUpdateOutcome
        if var driver = drivers[id] {
            guard positionTime >= driver.positionTime else { return .ignoredOutOfOrder }
            if let maximumReportAge, now.timeIntervalSince(positionTime) > maximumReportAge.timeInterval,
                isFresh(driver, now: now)
            {
                return .droppedStale
            }
            driver.location = location
            driver.updatedAt = now
            driver.positionTime = positionTime
            store(driver)
            outcome = .applied(isNewDriver: false)
        } else {
            if let maximumDrivers, drivers.count >= maximumDrivers {
                // Forgetting is due first: a full registry may be full of drivers long gone.
                expireStale(now: now)
                guard drivers.count < maximumDrivers else {
                    throw DispatchError(
                        .capacityExhausted,
                        "this instance tracks its maximum of \(maximumDrivers) drivers; retry later"
                    )
                }
            }
            // A driver who went offline stays offline until it says otherwise, across forgetting and
            // restarts.
            let status: DriverStatus = offlineAbsent.remove(id) != nil ? .offline : .available
            store(Driver(id: id, status: status, location: location, updatedAt: now, positionTime: positionTime))
            outcome = .applied(isNewDriver: true)
        }
        expiryQueue.append((id, now))
        if drivers[id]?.status == .available {
            index.upsert(id, at: location)
        }
        return outcome
    }

    /// Sets a driver's status, as the driver asks.
    ///
    /// Going `offline` takes the driver out of every answer at once. Going `available` puts it back if
    /// its location is fresh; a stale driver returns with its next location report.
    /// - Parameters:
    ///   - id: The driver.
    ///   - status: `available` or `offline`.
    ///   - now: The service's current time.
    /// - Returns: The driver after the change.
    /// - Throws: `invalidStatus` for a status dispatch sets, `driverNotFound` when the driver has never
    ///   reported a location, `driverBusy` while it holds an offer or a ride.
    public mutating func setStatus(_ id: DriverID, to status: DriverStatus, now: Date) throws(DispatchError) -> Driver {
        guard DriverStatus.settable.contains(status) else {
            throw DispatchError(
                .invalidStatus,
                "status must be one of \(DriverStatus.settable.map(\.rawValue).joined(separator: ", ")), got \"\(status.rawValue)\""
            )
        }
        guard var driver = drivers[id] else {
            throw DispatchError(.driverNotFound, "driver \(id) has never reported a location")
        }
        guard !driver.status.isBusy else {
            throw DispatchError(
                .driverBusy,
                "driver \(id) is \(driver.status.rawValue) for ride \(driver.rideID?.rawValue ?? "?"); "
                    + "finish or decline it first"
            )
        }
        driver.status = status
        store(driver)
        if status == .available, isFresh(driver, now: now) {
            index.upsert(id, at: driver.location)
        } else {
            index.remove(id)
        }
        return driver
    }

    // MARK: Dispatch's own transitions (preconditions are the dispatcher's invariants)

    /// Reserves an available driver for an offer: it leaves the index until released.
    mutating func reserve(_ id: DriverID, for ride: RideID) {
        transition(id, from: [.available], to: .offered, ride: ride)
        index.remove(id)
    }

    /// The driver accepted the offer it holds.
    mutating func assign(_ id: DriverID) {
        transition(id, from: [.offered], to: .enRoute, ride: drivers[id]?.rideID)
    }

    /// The driver picked the rider up.
    mutating func startTrip(_ id: DriverID) {
        transition(id, from: [.enRoute], to: .onTrip, ride: drivers[id]?.rideID)
    }

    /// Restores a driver's assignment after a restart: the driver holds `ride` with `status`, at its
    /// last known place until it reports (stale, so out of every answer meanwhile).
    /// - Returns: False when the driver already holds another ride.
    mutating func restoreAssignment(_ id: DriverID, ride: RideID, status: DriverStatus, lastKnown: Coordinate) -> Bool {
        if let existing = drivers[id], existing.status.isBusy { return false }
        let distantPast = Date(timeIntervalSince1970: 0)
        store(
            Driver(
                id: id,
                status: status,
                location: drivers[id]?.location ?? lastKnown,
                updatedAt: drivers[id]?.updatedAt ?? distantPast,
                positionTime: drivers[id]?.positionTime ?? distantPast,
                rideID: ride
            )
        )
        index.remove(id)
        return true
    }

    /// Records how the driver answered an offer, in its history (not a change the map draws).
    mutating func recordOffer(_ id: DriverID, _ outcome: OfferHistory.Outcome, now: Date, halfLife: Duration) {
        drivers[id]?.offers.record(outcome, now: now, halfLife: halfLife)
    }

    /// Frees a driver from its offer or ride: available again, and back in the index if fresh.
    mutating func release(_ id: DriverID, now: Date) {
        transition(id, from: [.offered, .enRoute, .onTrip], to: .available, ride: nil)
        guard let driver = drivers[id] else { return }
        if isFresh(driver, now: now) {
            index.upsert(id, at: driver.location)
        } else {
            // It went stale while busy, when it could not be forgotten: it can be now.
            forgetQueue.append((id, driver.updatedAt))
        }
    }

    private mutating func transition(_ id: DriverID, from: Set<DriverStatus>, to status: DriverStatus, ride: RideID?) {
        guard var driver = drivers[id], from.contains(driver.status) else {
            preconditionFailure("driver \(id) cannot go to \(status) from \(drivers[id]?.status.rawValue ?? "unknown")")
        }
        driver.status = status
        driver.rideID = ride
        store(driver)
    }

    /// Drops drivers whose last update is older than `freshness` from the index, and forgets those
    /// silent for `forgetAfter` that hold no offer or ride.
    /// - Parameter now: The service's current time.
    /// - Returns: The drivers that went stale in this call.
    /// - Complexity: O(1) amortised per location update since the last call.
    @discardableResult
    public mutating func expireStale(now: Date) -> [DriverID] {
        var expired: [DriverID] = []
        while let oldest = expiryQueue.first, now.timeIntervalSince(oldest.updatedAt) >= freshnessInterval {
            expiryQueue.removeFirst()
            // Superseded entries (the driver reported again since) are skipped.
            guard let driver = drivers[oldest.id], driver.updatedAt == oldest.updatedAt else { continue }
            if index.remove(oldest.id) != nil {
                expired.append(oldest.id)
                changes.record(oldest.id)
            }
            if forgetAfter != nil { forgetQueue.append(oldest) }
        }
        forgetSilent(now: now)
        return expired
    }

    /// Remembers drivers as `offline` until they next report (after a restart: their stored status),
    /// up to `maximumDrivers`. Drivers already in memory keep the status they have.
    public mutating func rememberOffline(_ ids: some Sequence<DriverID>) {
        let limit = maximumDrivers ?? Int.max
        for id in ids where drivers[id] == nil && offlineAbsent.insert(id).inserted {
            offlineAbsentOrder.append(id)
            while offlineAbsent.count > limit, let oldest = offlineAbsentOrder.popFirst() {
                offlineAbsent.remove(oldest)
            }
            // The order keeps entries of drivers who came back; it never grows past twice the set.
            if offlineAbsentOrder.count > 2 * max(offlineAbsent.count, 1_024) {
                offlineAbsentOrder = Deque(offlineAbsentOrder.filter { offlineAbsent.contains($0) })
            }
        }
    }

    /// How many drivers were forgotten since the registry was made, for the metric.
    public private(set) var forgottenCount = 0

    private mutating func forgetSilent(now: Date) {
        guard let forgetAfter = forgetAfter?.timeInterval else { return }
        while let oldest = forgetQueue.first, now.timeIntervalSince(oldest.updatedAt) >= forgetAfter {
            forgetQueue.removeFirst()
            // A driver that reported since is not silent; one busy with a ride is kept until released.
            guard let driver = drivers[oldest.id], driver.updatedAt == oldest.updatedAt, !driver.status.isBusy
            else { continue }
            drivers[oldest.id] = nil
            byStatus.add(driver.status, -1)
            index.remove(oldest.id)
            changes.record(oldest.id)
            forgottenCount += 1
            if driver.status == .offline { rememberOffline([oldest.id]) }
        }
        compactIfMostlyEmpty()
    }

    /// Gives back the memory of a crowd that has gone: a dictionary or a queue never shrinks by itself,
    /// so after 100,000 drivers reported once and were forgotten their tables would stay that large.
    /// Rebuilt when under a quarter full (O(n), amortised over the removals that emptied them).
    private mutating func compactIfMostlyEmpty() {
        guard drivers.capacity > 1_024, drivers.count < drivers.capacity / 4 else { return }
        drivers = Dictionary(minimumCapacity: drivers.count).merging(drivers) { current, _ in current }
        index.compact()
        // A queue keeps its storage too; an empty one can simply start again.
        if expiryQueue.isEmpty { expiryQueue = [] }
        if forgetQueue.isEmpty { forgetQueue = [] }
    }

    // MARK: Queries

    /// A driver by ID.
    public func driver(_ id: DriverID) -> Driver? {
        drivers[id]
    }

    /// The available, fresh drivers nearest to a point.
    ///
    /// Mutating because it first expires stale drivers, so no answer ever includes one.
    /// - Parameters:
    ///   - center: Where to search from.
    ///   - radius: Search radius, in (0, 50 km].
    ///   - limit: At most this many drivers, in [1, 100].
    ///   - now: The service's current time.
    /// - Returns: Nearest first; equal distances by driver ID.
    /// - Throws: `invalidQuery` for a radius or limit out of range.
    public mutating func nearby(
        _ center: Coordinate,
        radius: Meters,
        limit: Int,
        now: Date
    ) throws(DispatchError) -> [SpatialIndex<DriverID>.Neighbor] {
        guard radius.value.isFinite, radius > .zero, radius <= Self.maximumNearbyRadius else {
            throw DispatchError(
                .invalidQuery,
                "radiusMeters must be in (0, \(Int(Self.maximumNearbyRadius.value))], got \(radius.value)"
            )
        }
        guard (1...Self.maximumNearbyLimit).contains(limit) else {
            throw DispatchError(.invalidQuery, "limit must be in [1, \(Self.maximumNearbyLimit)], got \(limit)")
        }
        expireStale(now: now)
        do {
            return try index.nearest(to: center, limit: limit, within: radius)
        } catch {
            // Unreachable: radius and limit were validated above against tighter bounds.
            throw DispatchError(.invalidQuery, error.message)
        }
    }

    /// The available, fresh drivers nearest to a pickup, for matching: like `nearby`, without the API's
    /// limits, skipping excluded drivers.
    /// - Parameters:
    ///   - pickup: Where the rider waits.
    ///   - radius: The search radius (at most `SpatialIndex.maximumRadius`).
    ///   - limit: At most this many candidates.
    ///   - excluded: Drivers never to offer this ride again.
    ///   - now: The service's current time.
    /// - Returns: Nearest first; equal distances by driver ID.
    mutating func candidates(
        near pickup: Coordinate,
        radius: Meters,
        limit: Int,
        excluding excluded: Set<DriverID>,
        now: Date
    ) -> [SpatialIndex<DriverID>.Neighbor] {
        expireStale(now: now)
        let found = (try? index.nearest(to: pickup, limit: limit + excluded.count, within: radius)) ?? []
        return Array(found.lazy.filter { !excluded.contains($0.key) }.prefix(limit))
    }

    /// The largest radius a nearby query accepts.
    public static let maximumNearbyRadius: Meters = .kilometers(50)
    /// The largest limit a nearby query accepts.
    public static let maximumNearbyLimit = 100

    /// Driver counts by state. `stale` drivers are `available` but have not reported within `freshness`.
    /// - Complexity: O(1) beyond the expiry due: the counts are kept as drivers change.
    public mutating func counts(now: Date) -> DriverCounts {
        expireStale(now: now)
        var counts = byStatus
        counts.available = index.count
        counts.stale = byStatus.available - index.count
        return counts
    }

    /// Whether the counts kept as drivers change agree with a walk of every driver (for the
    /// invariants: O(drivers)).
    func keptCountsAreExact() -> Bool {
        var scanned = DriverCounts()
        for driver in drivers.values { scanned.add(driver.status, 1) }
        return scanned == byStatus
    }

    /// An estimate of the spatial index's heap memory, for the memory metric.
    public var indexMemoryBytes: Int { index.estimatedMemoryBytes }
}

/// How many drivers are in each state.
public struct DriverCounts: Hashable, Sendable {
    /// Adds `delta` to a status's count (`available` counts every driver of that status here).
    mutating func add(_ status: DriverStatus, _ delta: Int) {
        switch status {
        case .available: available += delta
        case .offline: offline += delta
        case .offered: offered += delta
        case .enRoute: enRoute += delta
        case .onTrip: onTrip += delta
        }
    }

    /// Available and fresh: candidates for rides.
    public var available = 0
    /// Available but not heard from within the freshness window.
    public var stale = 0
    /// Signed off.
    public var offline = 0
    /// Holding an offer.
    public var offered = 0
    /// Driving to a pickup.
    public var enRoute = 0
    /// Carrying a rider.
    public var onTrip = 0

    /// Creates counts.
    public init(
        available: Int = 0,
        stale: Int = 0,
        offline: Int = 0,
        offered: Int = 0,
        enRoute: Int = 0,
        onTrip: Int = 0
    ) {
        self.available = available
        self.stale = stale
        self.offline = offline
        self.offered = offered
        self.enRoute = enRoute
        self.onTrip = onTrip
    }
}
