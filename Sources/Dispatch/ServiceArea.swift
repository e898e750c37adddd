import Foundation
import Geo

/// The area a regional dispatcher serves: a rectangle of latitude and longitude (`SERVICE_AREA`).
/// A ride whose pickup lies outside is refused, so a client sent to the wrong region hears it at once
/// instead of waiting for a driver who will never come.
public struct ServiceArea: Hashable, Sendable, CustomStringConvertible {
    public let minLatitude: Double
    public let minLongitude: Double
    public let maxLatitude: Double
    public let maxLongitude: Double

    /// - Throws: `invalidServiceArea` unless both ranges are valid coordinates and not empty. (An area
    ///   across the antimeridian is not supported: give two regions.)
    public init(
        minLatitude: Double,
        minLongitude: Double,
        maxLatitude: Double,
        maxLongitude: Double
    ) throws(DispatchError) {
        guard (try? Coordinate(latitude: minLatitude, longitude: minLongitude)) != nil,
            (try? Coordinate(latitude: maxLatitude, longitude: maxLongitude)) != nil,
            minLatitude < maxLatitude, minLongitude < maxLongitude
        else {
            throw DispatchError(
                .invalidServiceArea,
                "a service area is minLat,minLng,maxLat,maxLng with min below max, got "
                    + "\(minLatitude),\(minLongitude),\(maxLatitude),\(maxLongitude)"
            )
        }
        self.minLatitude = minLatitude
        self.minLongitude = minLongitude
        self.maxLatitude = maxLatitude
        self.maxLongitude = maxLongitude
    }

    /// Reads `minLat,minLng,maxLat,maxLng` (decimal degrees, as in `SERVICE_AREA`).
    public init(parsing text: String) throws(DispatchError) {
        let numbers = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Double($0.trimmingCharacters(in: .whitespaces))
        }
        guard numbers.count == 4, let minLat = numbers[0], let minLng = numbers[1], let maxLat = numbers[2],
            let maxLng = numbers[3]
        else {
            throw DispatchError(.invalidServiceArea, "a service area is minLat,minLng,maxLat,maxLng, got \"\(text)\"")
        }
        try self.init(minLatitude: minLat, minLongitude: minLng, maxLatitude: maxLat, maxLongitude: maxLng)
    }

    /// Whether the point lies in the area (its edges included).
    public func contains(_ point: Coordinate) -> Bool {
        (minLatitude...maxLatitude).contains(point.latitude) && (minLongitude...maxLongitude).contains(point.longitude)
    }

    /// `minLat,minLng,maxLat,maxLng`.
    public var description: String { "\(minLatitude),\(minLongitude),\(maxLatitude),\(maxLongitude)" }
}
