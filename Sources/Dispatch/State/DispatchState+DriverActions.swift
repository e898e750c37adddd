import Foundation
import Geo

extension DispatchState {
    /// The driver accepts the offer it holds: it is assigned and heads to the pickup.
    /// - Throws: `rideNotFound`, `offerNotHeld` when this driver does not hold this ride's open offer.
    public mutating func accept(_ id: RideID, by driver: DriverID, now: Date) throws(DispatchError) -> Ride {
        var ride = try existingRide(id)
        let offer = try heldOffer(of: ride, by: driver)
        drivers.recordOffer(driver, .accepted, now: now, halfLife: configuration.acceptance.halfLife)
        drivers.assign(driver)
        ride.status = .accepted
        ride.offer = nil
        ride.driverID = driver
        ride.pickupDistance = offer.explanation.pickupDistance
        ride.eta = offer.explanation.eta
        ride.acceptedAt = now
        emit(.rideAccepted, for: &ride, at: now, driver: driver, pickupDistance: ride.pickupDistance)
        rides[id] = ride
        watchAssignment(of: ride, driver: driver, now: now)
        return ride
    }

    /// The driver declines the offer it holds: it is freed, and the ride is offered to someone else,
    /// never to this driver again.
    /// - Throws: `rideNotFound`, `offerNotHeld`.
    public mutating func decline(_ id: RideID, by driver: DriverID, now: Date) throws(DispatchError) -> Ride {
        var ride = try existingRide(id)
        _ = try heldOffer(of: ride, by: driver)
        drivers.recordOffer(driver, .declined, now: now, halfLife: configuration.acceptance.halfLife)
        return searchAgain(&ride, without: driver, because: .offerDeclined, now: now)
    }

    /// The assigned driver is at the pickup.
    /// - Throws: `rideNotFound`, `rideNotHeld`, `transitionNotAllowed` unless the ride is `accepted`.
    public mutating func arrive(_ id: RideID, by driver: DriverID, now: Date) throws(DispatchError) -> Ride {
        var ride = try assignedRide(id, driver: driver, expecting: [.accepted], action: "arrive")
        ride.status = .arrived
        ride.arrivedAt = now
        emit(.driverArrived, for: &ride, at: now, driver: driver)
        rides[id] = ride
        return ride
    }

    /// The rider is on board.
    /// - Throws: `rideNotFound`, `rideNotHeld`, `transitionNotAllowed` unless the ride is `arrived`.
    public mutating func start(_ id: RideID, by driver: DriverID, now: Date) throws(DispatchError) -> Ride {
        var ride = try assignedRide(id, driver: driver, expecting: [.arrived], action: "start")
        drivers.startTrip(driver)
        ride.status = .inProgress
        ride.startedAt = now
        emit(.tripStarted, for: &ride, at: now, driver: driver)
        rides[id] = ride
        watchTrip(of: ride, driver: driver)
        return ride
    }

    /// The rider is dropped off; the driver is free again.
    /// - Throws: `rideNotFound`, `rideNotHeld`, `transitionNotAllowed` unless the ride is `in_progress`.
    public mutating func complete(_ id: RideID, by driver: DriverID, now: Date) throws(DispatchError) -> Ride {
        var ride = try assignedRide(id, driver: driver, expecting: [.inProgress], action: "complete")
        complete(&ride, driver: driver, reason: nil, now: now)
        return ride
    }

    /// Completes a ride its driver holds: the driver is free again.
    mutating func complete(_ ride: inout Ride, driver: DriverID, reason: String?, now: Date) {
        drivers.release(driver, now: now)
        ride.status = .completed
        ride.completedAt = now
        emit(.rideCompleted, for: &ride, at: now, driver: driver, reason: reason)
        finish(&ride, now: now)
    }

    /// The assigned driver gives the ride up before the trip starts: the driver is freed and the ride
    /// searches again, never offered to this driver again.
    /// - Throws: `rideNotFound`, `rideNotHeld`, `transitionNotAllowed` once the trip has started (or, for
    ///   an open offer, decline it instead).
    public mutating func cancelByDriver(_ id: RideID, driver: DriverID, now: Date) throws(DispatchError) -> Ride {
        var ride = try assignedRide(id, driver: driver, expecting: [.accepted, .arrived], action: "cancel")
        return searchAgain(&ride, without: driver, because: .driverCancelled, now: now)
    }

    /// The driver offered or assigned is out (declined, let the offer expire, cancelled, or released
    /// by a watchdog): it is freed and never offered this ride again, the ride drops its offer or
    /// assignment, records why in one event, and searches again. A ride that had a driver assigned
    /// searches for a full search timeout from now: its rider has waited already.
    /// - Returns: The ride after the search resumed (possibly already offered to someone else).
    @discardableResult
    mutating func searchAgain(
        _ ride: inout Ride,
        without driver: DriverID,
        because kind: RideEvent.Kind,
        reason: String? = nil,
        now: Date
    ) -> Ride {
        if ride.driverID != nil {
            ride.search.deadline = max(ride.search.deadline, now + configuration.searchTimeout.timeInterval)
            schedule(.searchTimeout, at: ride.search.deadline, ride: ride.id)
        }
        drivers.release(driver, now: now)
        ride.status = .requested
        ride.offer = nil
        ride.driverID = nil
        ride.pickupDistance = nil
        ride.eta = nil
        ride.acceptedAt = nil
        ride.arrivedAt = nil
        ride.search.excluded.insert(driver)
        emit(kind, for: &ride, at: now, driver: driver, reason: reason)
        rides[ride.id] = ride
        startSearching(ride.id, now: now)
        return rides[ride.id] ?? ride
    }

    /// The open offer of a driver, if it holds one.
    public func offer(heldBy driver: DriverID) -> Offer? {
        guard let held = drivers.driver(driver), held.status == .offered, let rideID = held.rideID else { return nil }
        return rides[rideID]?.offer
    }

    private func heldOffer(of ride: Ride, by driver: DriverID) throws(DispatchError) -> Offer {
        guard ride.status == .offered, let offer = ride.offer, offer.driverID == driver else {
            throw DispatchError(
                .offerNotHeld,
                "driver \(driver) does not hold an open offer for ride \(ride.id) (ride is \(ride.status.rawValue))"
            )
        }
        return offer
    }

    private func assignedRide(
        _ id: RideID,
        driver: DriverID,
        expecting statuses: Set<RideStatus>,
        action: String
    ) throws(DispatchError) -> Ride {
        let ride = try existingRide(id)
        guard ride.driverID == driver else {
            throw DispatchError(.rideNotHeld, "driver \(driver) is not assigned to ride \(id)")
        }
        guard statuses.contains(ride.status) else {
            throw DispatchError(
                .transitionNotAllowed,
                "cannot \(action) ride \(id) while it is \(ride.status.rawValue)"
            )
        }
        return ride
    }
}
