import Foundation
import Geo

extension DispatchState {
    /// A rider asks for a ride.
    ///
    /// With an idempotency key, a retry with the same request returns the ride the key first created
    /// (`created` is false); the same key with a different request is an error. In greedy mode the ride
    /// is offered to the nearest eligible driver at once; in batch mode at the next batch.
    /// - Parameters:
    ///   - request: Rider, pickup and drop-off.
    ///   - idempotencyKey: The client's key for safe retries, if any.
    ///   - id: The ID for a new ride.
    ///   - now: The service's current time.
    /// - Returns: The ride, and whether this call created it.
    /// - Throws: `idempotencyKeyReused`, `outsideServiceArea`, `riderHasActiveRide`, `capacityExhausted`.
    public mutating func requestRide(
        _ request: RideRequest,
        idempotencyKey: String?,
        id: RideID,
        now: Date
    ) throws(DispatchError) -> (ride: Ride, created: Bool) {
        let scopedKey = idempotencyKey.map { IdempotencyKey(rider: request.riderID, key: $0) }
        if let scopedKey, let earlier = idempotencyKeys[scopedKey] {
            guard earlier.request == request else {
                throw DispatchError(
                    .idempotencyKeyReused,
                    "Idempotency-Key \(scopedKey.key) was already used for a different request (ride \(earlier.rideID))"
                )
            }
            if let ride = rides[earlier.rideID] { return (ride, false) }
        }
        if let area = configuration.serviceArea, !area.contains(request.pickup) {
            throw DispatchError(
                .outsideServiceArea,
                "pickup \(request.pickup) is outside this dispatcher's service area (\(area))"
            )
        }
        guard rides[id] == nil else {
            throw DispatchError(.transitionNotAllowed, "ride ID \(id) is already in use")
        }
        if let active = activeRideByRider[request.riderID] {
            throw DispatchError(
                .riderHasActiveRide,
                "rider \(request.riderID) already has ride \(active), which has not finished"
            )
        }
        guard activeRideByRider.count < configuration.maximumOpenRides else {
            throw DispatchError(
                .capacityExhausted,
                "this instance holds its maximum of \(configuration.maximumOpenRides) open rides; retry later"
            )
        }
        let radius = configuration.searchRadius
        var ride = Ride(
            id: id,
            request: request,
            status: .requested,
            requestedAt: now,
            sequence: 0,
            search: Ride.Search(
                radius: radius,
                deadline: now + configuration.searchTimeout.timeInterval,
                excluded: []
            ),
            idempotencyKey: idempotencyKey
        )
        emit(.rideRequested, for: &ride, at: now)
        rides[id] = ride
        activeRideByRider[request.riderID] = id
        if let scopedKey {
            idempotencyKeys[scopedKey] = (request, id)
        }
        schedule(.searchTimeout, at: ride.search.deadline, ride: id)
        startSearching(id, now: now)
        return (rides[id] ?? ride, true)
    }

    /// The rider cancels. Allowed until the trip starts; an open offer is withdrawn and an assigned
    /// driver is freed.
    /// - Throws: `rideNotFound`, `notYourRide`, `transitionNotAllowed` once the trip has started or the
    ///   ride has ended.
    public mutating func cancelByRider(_ id: RideID, rider: RiderID, now: Date) throws(DispatchError) -> Ride {
        var ride = try existingRide(id)
        guard ride.riderID == rider else {
            throw DispatchError(.notYourRide, "ride \(id) belongs to another rider")
        }
        switch ride.status {
        case .requested, .offered, .accepted, .arrived:
            cancel(&ride, reason: nil, now: now)
            return ride
        case .inProgress, .completed, .cancelled, .unfulfilled:
            throw DispatchError(.transitionNotAllowed, "ride \(id) is \(ride.status.rawValue): too late to cancel")
        }
    }

    /// Cancels an unfinished ride: the driver offered or assigned is freed, and the event names them.
    mutating func cancel(_ ride: inout Ride, reason: String?, now: Date) {
        let driver = ride.heldBy
        if let driver { drivers.release(driver, now: now) }
        ride.status = .cancelled
        ride.offer = nil
        ride.cancelledAt = now
        emit(.rideCancelled, for: &ride, at: now, driver: driver, reason: reason)
        finish(&ride, now: now)
    }

    /// Forgets a ride that storage refused to create, as if it had never been asked for: its offer is
    /// withdrawn (the driver freed), its rider may ask again, its key is free. No event: none of its
    /// events were stored, and none will be.
    /// - Returns: Whether there was such a ride.
    @discardableResult
    public mutating func discard(_ id: RideID, now: Date) -> Bool {
        guard let ride = rides.removeValue(forKey: id) else { return false }
        rideChanges.record(id)
        if let driver = ride.heldBy, drivers.driver(driver)?.rideID == id {
            drivers.release(driver, now: now)
        }
        searching.remove(id)
        if activeRideByRider[ride.riderID] == id { activeRideByRider[ride.riderID] = nil }
        if let key = ride.idempotencyKey, idempotencyKeys[IdempotencyKey(rider: ride.riderID, key: key)]?.rideID == id {
            idempotencyKeys[IdempotencyKey(rider: ride.riderID, key: key)] = nil
        }
        finished.removeAll { $0.rideID == id }
        return true
    }

    /// A ride by ID.
    /// - Throws: `rideNotFound`.
    func existingRide(_ id: RideID) throws(DispatchError) -> Ride {
        guard let ride = rides[id] else { throw DispatchError(.rideNotFound, "no ride with ID \(id)") }
        return ride
    }

    /// Ends a ride's life: the rider may ask again, and the ride is evicted after the retention period.
    mutating func finish(_ ride: inout Ride, now: Date) {
        activeRideByRider[ride.riderID] = nil
        searching.remove(ride.id)
        finished.append((ride.id, now))
        rides[ride.id] = ride
    }

    /// Forgets finished rides older than the retention period, with their idempotency keys.
    mutating func evictFinishedRides(now: Date) {
        let retention = configuration.finishedRideRetention.timeInterval
        while let oldest = finished.first, now.timeIntervalSince(oldest.at) >= retention {
            finished.removeFirst()
            if let ride = rides.removeValue(forKey: oldest.rideID), let key = ride.idempotencyKey {
                idempotencyKeys[IdempotencyKey(rider: ride.riderID, key: key)] = nil
            }
        }
    }
}
