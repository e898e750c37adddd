/// A validated point on the Earth's surface, in degrees.
///
/// Latitude is in [-90, 90] and longitude in [-180, 180); both are finite. A longitude of exactly 180 is
/// accepted and stored as -180, since both name the same meridian, so equal points compare equal.
public struct Coordinate: Hashable, Sendable {
    /// Degrees north of the equator, in [-90, 90].
    public let latitude: Double
    /// Degrees east of Greenwich, in [-180, 180).
    public let longitude: Double

    /// Creates a coordinate after checking both parts.
    ///
    /// - Parameters:
    ///   - latitude: Degrees north, a finite number in [-90, 90].
    ///   - longitude: Degrees east, a finite number in [-180, 180].
    /// - Throws: `GeoError` with code `invalidLatitude` or `invalidLongitude`, naming the value.
    public init(latitude: Double, longitude: Double) throws(GeoError) {
        guard latitude.isFinite, (-90.0...90.0).contains(latitude) else {
            throw GeoError(.invalidLatitude, "latitude must be a finite number in [-90, 90], got \(latitude)")
        }
        guard longitude.isFinite, (-180.0...180.0).contains(longitude) else {
            throw GeoError(.invalidLongitude, "longitude must be a finite number in [-180, 180], got \(longitude)")
        }
        self.latitude = latitude
        self.longitude = longitude == 180 ? -180 : longitude
    }

    /// Creates a coordinate from values already known to be valid and normalised.
    init(uncheckedLatitude latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

extension Coordinate: CustomStringConvertible {
    /// `latitude,longitude`, for logs.
    public var description: String { "\(latitude),\(longitude)" }
}
