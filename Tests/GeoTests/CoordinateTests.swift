import Testing

@testable import Geo

@Suite("Coordinate validation, distance and bearing")
struct CoordinateTests {
    @Test(
        "valid coordinates are accepted, 180° is stored as -180°",
        arguments: [
            (0.0, 0.0, 0.0, 0.0),
            (90.0, 0.0, 90.0, 0.0),
            (-90.0, 135.0, -90.0, 135.0),
            (37.5665, 126.978, 37.5665, 126.978),
            (10.0, 180.0, 10.0, -180.0),
            (10.0, -180.0, 10.0, -180.0),
            (-17.7, 179.999999, -17.7, 179.999999),
        ]
    )
    func valid(latitude: Double, longitude: Double, storedLatitude: Double, storedLongitude: Double) throws {
        let coordinate = try Coordinate(latitude: latitude, longitude: longitude)
        #expect(coordinate.latitude == storedLatitude)
        #expect(coordinate.longitude == storedLongitude)
    }

    @Test(
        "invalid coordinates throw a descriptive error",
        arguments: [
            (90.000001, 0.0, GeoError.Code.invalidLatitude),
            (-90.5, 0.0, .invalidLatitude),
            (Double.nan, 0.0, .invalidLatitude),
            (Double.infinity, 0.0, .invalidLatitude),
            (-Double.infinity, 0.0, .invalidLatitude),
            (0.0, 180.0000001, .invalidLongitude),
            (0.0, -181.0, .invalidLongitude),
            (0.0, Double.nan, .invalidLongitude),
            (0.0, Double.infinity, .invalidLongitude),
            (Double.greatestFiniteMagnitude, 0.0, .invalidLatitude),
        ]
    )
    func invalid(latitude: Double, longitude: Double, code: GeoError.Code) {
        #expect {
            try Coordinate(latitude: latitude, longitude: longitude)
        } throws: { error in
            guard let error = error as? GeoError else { return false }
            return error.code == code && !error.message.isEmpty && error.message.contains("got")
        }
    }

    @Test("180° and -180° name the same meridian")
    func antimeridianEquality() throws {
        let east = try Coordinate(latitude: -16.5, longitude: 180)
        let west = try Coordinate(latitude: -16.5, longitude: -180)
        #expect(east == west)
        #expect(east.distance(to: west) == .zero)
    }

    @Test(
        "haversine distances match reference values",
        arguments: [
            // (lat1, lng1, lat2, lng2, expected metres, tolerance metres)
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
            (0.0, 0.0, 0.0, 1.0, 111_195.08, 0.01),  // one degree of the equator: πR/180
            (0.0, 0.0, 1.0, 0.0, 111_195.08, 0.01),
            (90.0, 0.0, -90.0, 0.0, 20_015_114.44, 0.01),  // pole to pole: πR
            (0.0, 0.0, 0.0, 180.0, 20_015_114.44, 0.01),  // antipodes on the equator
            (0.0, 179.5, 0.0, -179.5, 111_195.08, 0.01),  // across the antimeridian, not around the world
            (89.99, 0.0, 89.99, 180.0, 2_223.90, 0.01),  // over the north pole
            (-89.99, 90.0, -89.99, -90.0, 2_223.90, 0.01),  // over the south pole
            // Seoul City Hall to Busan City Hall (Python reference implementation: 325,111.708 m).
            (37.5665, 126.978, 35.1796, 129.0756, 325_111.7, 0.1),
        ]
    )
    func distance(lat1: Double, lng1: Double, lat2: Double, lng2: Double, expected: Double, tolerance: Double) throws {
        let a = try Coordinate(latitude: lat1, longitude: lng1)
        let b = try Coordinate(latitude: lat2, longitude: lng2)
        #expect(abs(a.distance(to: b).value - expected) <= tolerance)
        #expect(a.distance(to: b) == b.distance(to: a))
    }

    @Test(
        "initial bearings point the right way",
        arguments: [
            (0.0, 0.0, 1.0, 0.0, 0.0),
            (0.0, 0.0, 0.0, 1.0, 90.0),
            (0.0, 0.0, -1.0, 0.0, 180.0),
            (0.0, 0.0, 0.0, -1.0, 270.0),
            (0.0, 179.5, 0.0, -179.5, 90.0),  // eastwards across the antimeridian
            (0.0, -179.5, 0.0, 179.5, 270.0),
            (89.0, 0.0, 89.0, 180.0, 0.0),  // over the pole: start due north
        ]
    )
    func bearing(lat1: Double, lng1: Double, lat2: Double, lng2: Double, expected: Double) throws {
        let a = try Coordinate(latitude: lat1, longitude: lng1)
        let b = try Coordinate(latitude: lat2, longitude: lng2)
        let bearing = a.bearing(to: b).degrees
        let difference = abs(bearing - expected)
        #expect(min(difference, 360 - difference) < 1e-9)
    }

    @Test("a bearing of the same point is north, and bearings normalise into [0, 360)")
    func bearingNormalisation() throws {
        let here = try Coordinate(latitude: 37.5, longitude: 127)
        #expect(here.bearing(to: here) == .north)
        #expect(Bearing(degrees: -90) == .west)
        #expect(Bearing(degrees: 720) == .north)
        #expect(Bearing(degrees: 450).degrees == 90)
    }

    @Test(
        "destination travels the given distance and wraps at the antimeridian and poles",
        arguments: [
            (37.5665, 126.978, 45.0, 100.0),
            (-16.5, 179.9995, 90.0, 500.0),  // crosses 180° eastwards
            (65.0, -179.99, 270.0, 2_000.0),  // crosses 180° westwards
            (89.9995, 10.0, 0.0, 200.0),  // over the north pole
            (-89.9999, -45.0, 180.0, 100.0),  // over the south pole
        ]
    )
    func destination(latitude: Double, longitude: Double, bearing: Double, meters: Double) throws {
        let start = try Coordinate(latitude: latitude, longitude: longitude)
        let end = start.destination(bearing: Bearing(degrees: bearing), distance: Meters(meters))
        // The result is a valid coordinate...
        let revalidated = try Coordinate(latitude: end.latitude, longitude: end.longitude)
        #expect(revalidated == end)
        // ...at the requested distance.
        #expect(abs(start.distance(to: end).value - meters) < 1e-6 * max(1, meters))
    }
}
