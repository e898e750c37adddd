import Foundation
import Geo

extension DispatchState {
    /// Rebuilds the state of unfinished rides after a restart, from their stored values.
    ///
    /// Rides that were searching search again; a ride that held an offer goes back to searching (one
    /// `search_resumed` event: the offer is re-made when drivers report); accepted, arrived and
    /// in-progress rides keep their driver, who is restored as `en_route` or `on_trip` at an unknown
    /// location until its next report. Sequences continue from each ride's last stored event.
    ///
    /// Every ride is in place before any searches: drivers may have reported to this replica before it
    /// took over (reports are served by any replica), so a driver the store has on a ride can look
    /// available here, and an earlier ride searching first would be offered to it.
    /// - Parameters:
    ///   - stored: Unfinished rides as stored; finished ones are ignored.
    ///   - now: The service's current time.
    /// - Returns: A description of each ride that could not be restored (none, for a consistent store).
    @discardableResult
    public mutating func restore(_ stored: [Ride], now: Date) -> [String] {
        var problems: [String] = []
        var toSearch: [Ride] = []
        for var ride in stored.sorted(by: { ($0.requestedAt, $0.id) < ($1.requestedAt, $1.id) })
        where !ride.status.isFinal {
            guard rides[ride.id] == nil, activeRideByRider[ride.riderID] == nil else {
                problems.append("ride \(ride.id): a ride with this ID or rider is already active")
                continue
            }
            switch ride.status {
            case .accepted, .arrived, .inProgress:
                guard let driver = ride.driverID else {
                    problems.append("ride \(ride.id) is \(ride.status.rawValue) without a driver")
                    continue
                }
                let status: DriverStatus = ride.status == .inProgress ? .onTrip : .enRoute
                guard drivers.restoreAssignment(driver, ride: ride.id, status: status, lastKnown: ride.pickup) else {
                    problems.append("ride \(ride.id): driver \(driver) already holds another ride")
                    continue
                }
                rides[ride.id] = ride
                // A ride stuck before the restart is unstuck after it: the watchdogs run from the
                // stored times (the driver's silence from now: it has had no chance to report).
                if ride.status == .inProgress {
                    watchTrip(of: ride, driver: driver)
                } else {
                    watchAssignment(of: ride, driver: driver, now: now)
                }
            case .offered:
                ride.status = .requested
                ride.offer = nil
                emit(.searchResumed, for: &ride, at: now)
                rides[ride.id] = ride
            case .requested:
                rides[ride.id] = ride
            case .completed, .cancelled, .unfulfilled:
                continue
            }
            activeRideByRider[ride.riderID] = ride.id
            rideChanges.record(ride.id)
            if let key = ride.idempotencyKey {
                idempotencyKeys[IdempotencyKey(rider: ride.riderID, key: key)] = (ride.request, ride.id)
            }
            if ride.status == .requested { toSearch.append(ride) }
        }
        for ride in toSearch {
            schedule(.searchTimeout, at: ride.search.deadline, ride: ride.id)
            startSearching(ride.id, now: now)
        }
        return problems
    }
}
