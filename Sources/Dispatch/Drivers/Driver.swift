import Foundation
import Geo

/// What a driver is doing, as far as dispatch is concerned.
public enum DriverStatus: String, Hashable, Sendable, CaseIterable {
    /// Online and free: a candidate for rides while its location is fresh.
    case available
    /// Signed off: in no answer until it sets `available` again.
    case offline
}

/// A driver as the service knows it.
public struct Driver: Hashable, Sendable {
    /// The driver's ID.
    public let id: DriverID
    /// The status the driver last set (a new driver starts `available`).
    public internal(set) var status: DriverStatus
    /// The last applied location.
    public internal(set) var location: Coordinate
    /// When the last location update was applied, by the service's clock. Freshness counts from here.
    public internal(set) var updatedAt: Date
    /// The device time of the last applied update (`recordedAt`, or `updatedAt` when the update carried
    /// none). Later updates with an earlier time are acknowledged but not applied.
    public internal(set) var positionTime: Date
}

/// The outcome of a location update.
public enum LocationUpdateOutcome: Hashable, Sendable {
    /// The update was applied; `isNewDriver` when this was the driver's first report.
    case applied(isNewDriver: Bool)
    /// The update was older than the driver's last applied one and was acknowledged without effect.
    case ignoredOutOfOrder
}
