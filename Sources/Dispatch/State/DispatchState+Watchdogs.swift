import Foundation

/// How an operator ends a ride (`DispatchState.end(_:as:reason:now:)`).
public enum RideEnding: String, Hashable, Sendable, CaseIterable {
    /// From any unfinished state: the ride is cancelled.
    case cancelled
    /// Once a driver is assigned: the ride is completed.
    case completed
}

extension DispatchState {
    // MARK: Watchdogs: no ride stuck forever

    /// Arms the watchdogs of a ride just accepted (or restored as accepted or arrived): the pickup
    /// deadline and the driver's silence.
    mutating func watchAssignment(of ride: Ride, driver: DriverID, now: Date) {
        if ride.status == .accepted, let acceptedAt = ride.acceptedAt {
            schedule(
                .pickupDeadline(driver),
                at: configuration.pickupDeadline(acceptedAt: acceptedAt, eta: ride.eta),
                ride: ride.id
            )
        }
        schedule(.driverSilence(driver), at: now + configuration.assignedDriverTTL.timeInterval, ride: ride.id)
    }

    /// Arms the trip watchdog of a ride whose trip started (or restored in progress).
    mutating func watchTrip(of ride: Ride, driver: DriverID) {
        let started = ride.startedAt ?? ride.requestedAt
        schedule(.tripDeadline(driver), at: started + configuration.maximumTripDuration.timeInterval, ride: ride.id)
    }

    /// A watchdog's timer is due. Each checks that the ride is still where the timer left it (same
    /// driver, same stage); otherwise the timer is stale and does nothing.
    mutating func fireWatchdog(_ kind: Timer.Kind, ride: inout Ride, at: Date, now: Date) {
        switch kind {
        case .pickupDeadline(let driver):
            guard ride.status == .accepted, ride.driverID == driver else { return }
            lapse(&ride, driver: driver, reason: .pickupOverdue, now: now)
        case .driverSilence(let driver):
            guard ride.status == .accepted || ride.status == .arrived, ride.driverID == driver else { return }
            let ttl = configuration.assignedDriverTTL.timeInterval
            let lastHeard = drivers.driver(driver)?.updatedAt ?? .distantPast
            if lastHeard + ttl > now {
                // Heard from since the timer was set: look again a TTL after the last report.
                schedule(.driverSilence(driver), at: lastHeard + ttl, ride: ride.id)
            } else {
                lapse(&ride, driver: driver, reason: .driverLost, now: now)
            }
        case .tripDeadline(let driver):
            guard ride.status == .inProgress, ride.driverID == driver else { return }
            complete(&ride, driver: driver, reason: RideEvent.Reason.tripTimeLimit.rawValue, now: now)
        default:
            return
        }
    }

    /// The service releases an assigned driver before pickup: the driver is told (the event names
    /// it) and freed, and the ride searches again, for a full search timeout, without that driver.
    private mutating func lapse(_ ride: inout Ride, driver: DriverID, reason: RideEvent.Reason, now: Date) {
        searchAgain(&ride, without: driver, because: .assignmentLapsed, reason: reason.rawValue, now: now)
    }

    // MARK: Operators

    /// An operator ends a ride, with their reason on its final event: cancelled from any unfinished
    /// state (an offer is withdrawn, an assigned driver freed), or completed once a driver is assigned.
    /// - Throws: `rideNotFound`; `transitionNotAllowed` for a finished ride, or to complete one no
    ///   driver holds.
    public mutating func end(
        _ id: RideID,
        as ending: RideEnding,
        reason: String,
        now: Date
    ) throws(DispatchError) -> Ride {
        var ride = try existingRide(id)
        guard !ride.status.isFinal else {
            throw DispatchError(.transitionNotAllowed, "ride \(id) is \(ride.status.rawValue): it has already ended")
        }
        switch ending {
        case .cancelled:
            cancel(&ride, reason: reason, now: now)
        case .completed:
            guard let driver = ride.driverID else {
                throw DispatchError(
                    .transitionNotAllowed,
                    "ride \(id) is \(ride.status.rawValue): only a ride with an assigned driver can be completed"
                )
            }
            complete(&ride, driver: driver, reason: reason, now: now)
        }
        return ride
    }
}
