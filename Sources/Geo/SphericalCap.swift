#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The latitude/longitude bounds of a circle on the sphere (a spherical cap), used to find the grid
/// cells a query must visit.
///
/// The longitude half-width is `asin(sin ρ / cos φ)` (Matuschek, "Finding points within a distance of a
/// latitude/longitude using bounding coordinates"). A cap that reaches a pole spans every longitude; one
/// that crosses the antimeridian is split in two longitude ranges.
struct SphericalCap: Sendable {
    /// Southern and northern bound, radians.
    let minLatitude: Double
    let maxLatitude: Double
    /// One or two longitude ranges in radians within [-π, π]; unused when every longitude is covered.
    let longitudeRanges: RangePair<Double>
    /// True when the cap spans every longitude (it contains a pole or is wider than the sphere allows).
    let coversAllLongitudes: Bool

    /// Bounds a cap, widened by a relative 1e-9 so rounding can never leave a point on the rim out;
    /// queries filter by exact distance afterwards.
    /// - Parameters:
    ///   - center: The centre of the cap.
    ///   - radius: The cap's radius in metres, in [0, 100 km].
    init(center: Coordinate, radius: Double) {
        let angularRadius = radius / Earth.meanRadius.value * (1 + 1e-9) + 1e-12
        let latitude = center.latitude * SphericalMath.radiansPerDegree
        let longitude = center.longitude * SphericalMath.radiansPerDegree
        let south = latitude - angularRadius
        let north = latitude + angularRadius
        minLatitude = max(-Double.pi / 2, south)
        maxLatitude = min(Double.pi / 2, north)
        let sinRatio = sin(angularRadius) / cos(latitude)
        guard south > -Double.pi / 2, north < Double.pi / 2, sinRatio < 1 else {
            coversAllLongitudes = true
            longitudeRanges = RangePair(-Double.pi...Double.pi)
            return
        }
        let halfWidth = asin(sinRatio)
        let west = longitude - halfWidth
        let east = longitude + halfWidth
        coversAllLongitudes = false
        if west < -Double.pi {
            longitudeRanges = RangePair(-Double.pi...east, (west + 2 * Double.pi)...Double.pi)
        } else if east > Double.pi {
            longitudeRanges = RangePair(-Double.pi...(east - 2 * Double.pi), west...Double.pi)
        } else {
            longitudeRanges = RangePair(west...east)
        }
    }

    /// The column ranges the cap covers in a row block with the given number of columns, merged so
    /// that no column appears twice.
    @inline(__always)
    func columnRanges(in grid: CellGrid, columns: Int32) -> RangePair<Int32> {
        let all = RangePair(0...(columns - 1))
        if coversAllLongitudes { return all }
        let first = longitudeRanges.first
        let west = grid.column(longitude: first.lowerBound, columns: columns)
        let east = grid.column(longitude: first.upperBound, columns: columns)
        guard let second = longitudeRanges.second else { return RangePair(west...east) }
        // Split at the antimeridian: `first` starts at column 0, `second` ends at the last column.
        // If quantisation makes them meet or overlap, the whole row block is covered.
        let secondWest = grid.column(longitude: second.lowerBound, columns: columns)
        if east + 1 >= secondWest { return all }
        return RangePair(west...east, secondWest...(columns - 1))
    }
}

/// One closed range, or two disjoint ones in ascending order: the shape of a query's longitude
/// span, which the antimeridian can split. A value type, so queries allocate nothing for it.
struct RangePair<Bound: Comparable & Sendable>: Sendable {
    let first: ClosedRange<Bound>
    let second: ClosedRange<Bound>?

    init(_ first: ClosedRange<Bound>, _ second: ClosedRange<Bound>? = nil) {
        self.first = first
        self.second = second
    }
}
