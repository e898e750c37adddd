import Foundation
import Geo

/// What a driver is doing, as far as dispatch is concerned.
///
/// Drivers set `available` and `offline` themselves; dispatch moves them through `offered`,
/// `en_route` and `on_trip`.
public enum DriverStatus: String, Hashable, Sendable, CaseIterable {
    /// Online and free: a candidate for rides while its location is fresh.
    case available
    /// Signed off: in no answer until it sets `available` again.
    case offline
    /// Holding one offer, reserved for it until it answers or the offer expires.
    case offered
    /// Accepted a ride, driving to the pickup (and waiting there).
    case enRoute = "en_route"
    /// Carrying the rider.
    case onTrip = "on_trip"

    /// The statuses a driver may set through the API.
    public static let settable: [DriverStatus] = [.available, .offline]

    /// Whether the driver holds an offer or a ride.
    public var isBusy: Bool {
        switch self {
        case .offered, .enRoute, .onTrip: true
        case .available, .offline: false
        }
    }
}

/// A driver as the service knows it.
public struct Driver: Hashable, Sendable {
    /// The driver's ID.
    public let id: DriverID
    /// What the driver is doing (a new driver starts `available`).
    public internal(set) var status: DriverStatus
    /// The last applied location.
    public internal(set) var location: Coordinate
    /// When the last location update was applied, by the service's clock. Freshness counts from here.
    public internal(set) var updatedAt: Date
    /// The device time of the last applied update (`recordedAt`, or `updatedAt` when the update carried
    /// none). Later updates with an earlier time are acknowledged but not applied.
    public internal(set) var positionTime: Date
    /// The ride offered to or held by the driver, while `offered`, `en_route` or `on_trip`.
    public internal(set) var rideID: RideID?
    /// How the driver answered its recent offers (`Ranking.etaAcceptance` reads it).
    public internal(set) var offers = OfferHistory()
}

/// The outcome of a location update.
public enum LocationUpdateOutcome: Hashable, Sendable {
    /// The update was applied; `isNewDriver` when this was the driver's first report.
    case applied(isNewDriver: Bool)
    /// The update was older than the driver's last applied one and was acknowledged without effect.
    case ignoredOutOfOrder
    /// The update's fix was older than the maximum report age while the driver's position was still
    /// fresh: acknowledged without effect, because a newer report is coming.
    case droppedStale
}
