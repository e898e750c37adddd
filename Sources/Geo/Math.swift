#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Trigonometry shared by `Coordinate` and `SpatialIndex`, so both compute bit-identical distances:
/// a query's reported distance is exactly `center.distance(to: point)`, never a near-miss.
enum SphericalMath {
    static let radiansPerDegree = Double.pi / 180

    /// The haversine great-circle distance in metres.
    ///
    /// - Parameters:
    ///   - latitude1: First latitude, degrees.
    ///   - longitude1: First longitude, degrees.
    ///   - cosLatitude1: `cos` of the first latitude in radians, passed in so a query computes it once.
    ///   - latitude2: Second latitude, degrees.
    ///   - longitude2: Second longitude, degrees.
    /// - Returns: The distance along the sphere of radius `Earth.meanRadius`.
    @inline(__always)
    static func haversineDistance(
        latitude1: Double,
        longitude1: Double,
        cosLatitude1: Double,
        latitude2: Double,
        longitude2: Double
    ) -> Double {
        let halfDeltaLatitude = (latitude2 - latitude1) * radiansPerDegree / 2
        let halfDeltaLongitude = (longitude2 - longitude1) * radiansPerDegree / 2
        let sinHalfLat = sin(halfDeltaLatitude)
        let sinHalfLng = sin(halfDeltaLongitude)
        let cosLatitude2 = cos(latitude2 * radiansPerDegree)
        let a = sinHalfLat * sinHalfLat + cosLatitude1 * cosLatitude2 * sinHalfLng * sinHalfLng
        // `a` can exceed 1 by an ulp for antipodal points; clamp before the square root and arcsine.
        return 2 * Earth.meanRadius.value * asin(min(1, a).squareRoot())
    }

    /// `cos` of a latitude given in degrees.
    @inline(__always)
    static func cosLatitude(_ latitude: Double) -> Double {
        cos(latitude * radiansPerDegree)
    }
}
