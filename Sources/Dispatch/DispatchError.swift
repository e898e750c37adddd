/// The error thrown by `DispatchCore`: a stable machine-readable code and a message for people.
///
/// The server maps each code to an HTTP status in one place; the core knows nothing of HTTP.
public struct DispatchError: Error, Hashable, Sendable {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidDriverID = "invalid_driver_id"
            case invalidRiderID = "invalid_rider_id"
            case invalidRideID = "invalid_ride_id"
            case invalidCoordinate = "invalid_coordinate"
            case invalidRecordedAt = "invalid_recorded_at"
            case invalidStatus = "invalid_status"
            case invalidQuery = "invalid_query"
            case driverNotFound = "driver_not_found"
            case rideNotFound = "ride_not_found"
            case driverBusy = "driver_busy"
            case riderHasActiveRide = "rider_has_active_ride"
            case idempotencyKeyReused = "idempotency_key_reused"
            case notYourRide = "not_your_ride"
            case transitionNotAllowed = "transition_not_allowed"
            case offerNotHeld = "offer_not_held"
            case rideNotHeld = "ride_not_held"
            case invalidServiceArea = "invalid_service_area"
            case outsideServiceArea = "outside_service_area"
            case capacityExhausted = "capacity_exhausted"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A driver ID that is not 1–64 characters of `[A-Za-z0-9_-]`.
        public static let invalidDriverID = Code(.invalidDriverID)
        /// A rider ID that is not 1–64 characters of `[A-Za-z0-9_-]`.
        public static let invalidRiderID = Code(.invalidRiderID)
        /// A ride ID that is not 1–64 characters of `[A-Za-z0-9_-]`.
        public static let invalidRideID = Code(.invalidRideID)
        /// A latitude or longitude out of range or not finite.
        public static let invalidCoordinate = Code(.invalidCoordinate)
        /// A `recordedAt` time too far in the future to trust, or too old to make a driver fresh.
        public static let invalidRecordedAt = Code(.invalidRecordedAt)
        /// A driver status that cannot be set.
        public static let invalidStatus = Code(.invalidStatus)
        /// A query parameter (radius, limit) out of range.
        public static let invalidQuery = Code(.invalidQuery)
        /// No driver with that ID has ever reported.
        public static let driverNotFound = Code(.driverNotFound)
        /// No ride with that ID is known.
        public static let rideNotFound = Code(.rideNotFound)
        /// The driver holds an offer or a ride, so it cannot change its status now.
        public static let driverBusy = Code(.driverBusy)
        /// The rider already has a ride that has not finished.
        public static let riderHasActiveRide = Code(.riderHasActiveRide)
        /// An `Idempotency-Key` already used for a different request.
        public static let idempotencyKeyReused = Code(.idempotencyKeyReused)
        /// The ride belongs to another rider, or is assigned to another driver.
        public static let notYourRide = Code(.notYourRide)
        /// The ride's current state does not allow the command.
        public static let transitionNotAllowed = Code(.transitionNotAllowed)
        /// The driver does not hold the offer (it was never made to them, or it expired).
        public static let offerNotHeld = Code(.offerNotHeld)
        /// The driver is not the one assigned to the ride.
        public static let rideNotHeld = Code(.rideNotHeld)
        /// A service area that is not `minLat,minLng,maxLat,maxLng` with min below max.
        public static let invalidServiceArea = Code(.invalidServiceArea)
        /// The pickup lies outside this dispatcher's service area (another region serves it).
        public static let outsideServiceArea = Code(.outsideServiceArea)
        /// This instance holds as many drivers, open rides or streams as it is configured to.
        public static let capacityExhausted = Code(.capacityExhausted)

        /// The code in `snake_case`, for example `driver_not_found`.
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public let code: Code
    /// What was wrong, naming the offending value.
    public let message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The machine-readable code.
    ///   - message: The explanation for people.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension DispatchError: CustomStringConvertible {
    /// The code and the message, for logs.
    public var description: String { "\(code): \(message)" }
}
