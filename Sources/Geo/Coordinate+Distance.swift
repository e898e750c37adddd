#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Coordinate {
    /// The great-circle distance to another point (haversine on a sphere of `Earth.meanRadius`).
    ///
    /// Correct across the antimeridian and at the poles: the formula works on angle differences, so
    /// 179.9° E and 179.9° W are 0.2° of longitude apart.
    /// - Parameter other: The other point.
    /// - Returns: The distance, 0 for the same point, at most half the Earth's circumference.
    /// - Complexity: O(1).
    public func distance(to other: Coordinate) -> Meters {
        Meters(
            SphericalMath.haversineDistance(
                latitude1: latitude,
                longitude1: longitude,
                cosLatitude1: SphericalMath.cosLatitude(latitude),
                latitude2: other.latitude,
                longitude2: other.longitude
            )
        )
    }

    /// The initial bearing of the great circle from this point to another.
    ///
    /// - Parameter other: The destination.
    /// - Returns: Degrees clockwise from north at this point. For identical points the bearing is 0;
    ///   from a pole, every direction is south (or north), and the result follows the destination's
    ///   meridian.
    public func bearing(to other: Coordinate) -> Bearing {
        let phi1 = latitude * SphericalMath.radiansPerDegree
        let phi2 = other.latitude * SphericalMath.radiansPerDegree
        let deltaLambda = (other.longitude - longitude) * SphericalMath.radiansPerDegree
        let y = sin(deltaLambda) * cos(phi2)
        let x = cos(phi1) * sin(phi2) - sin(phi1) * cos(phi2) * cos(deltaLambda)
        if x == 0, y == 0 { return .north }
        return Bearing(degrees: atan2(y, x) / SphericalMath.radiansPerDegree)
    }

    /// The point reached by travelling a distance along the great circle that starts at a bearing.
    ///
    /// Used to simulate movement; the result is always a valid coordinate, wrapped across the
    /// antimeridian and clamped at the poles.
    /// - Parameters:
    ///   - bearing: The initial direction.
    ///   - distance: How far to travel; negative distances travel backwards.
    /// - Returns: The destination point.
    public func destination(bearing: Bearing, distance: Meters) -> Coordinate {
        let delta = distance.value / Earth.meanRadius.value
        let theta = bearing.degrees * SphericalMath.radiansPerDegree
        let phi1 = latitude * SphericalMath.radiansPerDegree
        let lambda1 = longitude * SphericalMath.radiansPerDegree
        let sinPhi2 = sin(phi1) * cos(delta) + cos(phi1) * sin(delta) * cos(theta)
        let phi2 = asin(max(-1, min(1, sinPhi2)))
        let lambda2 = lambda1 + atan2(sin(theta) * sin(delta) * cos(phi1), cos(delta) - sin(phi1) * sinPhi2)
        let latitude2 = max(-90, min(90, phi2 / SphericalMath.radiansPerDegree))
        return Coordinate(
            uncheckedLatitude: latitude2,
            longitude: Self.wrapLongitude(lambda2 / SphericalMath.radiansPerDegree)
        )
    }

    /// Wraps any finite longitude into [-180, 180).
    static func wrapLongitude(_ degrees: Double) -> Double {
        var wrapped = (degrees + 180).truncatingRemainder(dividingBy: 360)
        if wrapped < 0 { wrapped += 360 }
        let result = wrapped - 180
        return result >= 180 ? -180 : result
    }
}
