import Foundation
import Geo

/// A domain event: one state change of one ride, in order (`sequence` starts at 1 and has no gaps).
public struct RideEvent: Hashable, Sendable {
    /// What happened.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// The rider asked for a ride.
        case rideRequested = "ride_requested"
        /// The ride was offered to a driver (`offer` says to whom and why).
        case rideOffered = "ride_offered"
        /// The driver declined; the search goes on without them.
        case offerDeclined = "offer_declined"
        /// The driver did not answer in time; the search goes on without them.
        case offerExpired = "offer_expired"
        /// No driver within the radius: it widened (`searchRadius`).
        case searchWidened = "search_widened"
        /// The driver accepted and is on the way.
        case rideAccepted = "ride_accepted"
        /// The driver is at the pickup.
        case driverArrived = "driver_arrived"
        /// The rider is on board.
        case tripStarted = "trip_started"
        /// Dropped off.
        case rideCompleted = "ride_completed"
        /// The rider cancelled.
        case rideCancelled = "ride_cancelled"
        /// The accepted driver cancelled; the ride is searching again.
        case driverCancelled = "driver_cancelled"
        /// No driver accepted before the search timeout.
        case rideUnfulfilled = "ride_unfulfilled"
        /// After a restart, a ride that held an offer searches again (the offer is re-made).
        case searchResumed = "search_resumed"
        /// The service released the assigned driver before pickup (`reason`: `pickup_overdue` or
        /// `driver_lost`); the ride searches again, never offered to that driver again.
        case assignmentLapsed = "assignment_lapsed"
    }

    /// Why the service (a watchdog) changed a ride by itself.
    public enum Reason: String, Hashable, Sendable, CaseIterable {
        /// The driver had not arrived long after the pickup was due (ETA × factor + margin).
        case pickupOverdue = "pickup_overdue"
        /// The assigned driver stopped reporting for longer than `assignedDriverTTL`.
        case driverLost = "driver_lost"
        /// The trip ran past `maximumTripDuration`: the service completed it.
        case tripTimeLimit = "trip_time_limit"
    }

    /// The ride.
    public let rideID: RideID
    /// The ride's rider.
    public let riderID: RiderID
    /// 1 for the ride's first event, then +1 for each.
    public let sequence: Int
    /// What happened.
    public let kind: Kind
    /// When, by the service's clock.
    public let at: Date
    /// The ride's status after the event.
    public let status: RideStatus
    /// The driver concerned: the one offered, declining, accepted, cancelling.
    public let driverID: DriverID?
    /// The offer made, for `rideOffered`.
    public let offer: Offer?
    /// The new radius, for `searchWidened`.
    public let searchRadius: Meters?
    /// The accepted driver's distance to the pickup, for `rideAccepted`.
    public let pickupDistance: Meters?
    /// The operator who did this for the rider or driver (support), when one did: set on the event that
    /// records an operator's command (the request, the cancellation, the driver's action), not on what
    /// follows from it (the next offer).
    public let operatorID: OperatorID?
    /// Why, when the service ended or changed the ride by itself (a `Reason`'s raw value) or an
    /// operator ended it (their words).
    public let reason: String?

    /// Creates an event (the dispatcher makes them; this is for replays and tests).
    public init(
        rideID: RideID,
        riderID: RiderID,
        sequence: Int,
        kind: Kind,
        at: Date,
        status: RideStatus,
        driverID: DriverID?,
        offer: Offer?,
        searchRadius: Meters?,
        pickupDistance: Meters?,
        operatorID: OperatorID? = nil,
        reason: String? = nil
    ) {
        self.rideID = rideID
        self.riderID = riderID
        self.sequence = sequence
        self.kind = kind
        self.at = at
        self.status = status
        self.driverID = driverID
        self.offer = offer
        self.searchRadius = searchRadius
        self.pickupDistance = pickupDistance
        self.operatorID = operatorID
        self.reason = reason
    }
}
