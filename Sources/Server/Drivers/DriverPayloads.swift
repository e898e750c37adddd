import DispatchCore
import Geo
import Hummingbird

/// `{"lat": 37.5665, "lng": 126.978}` as it appears in requests and responses.
struct LatLng: Codable, Equatable {
    let lat: Double
    let lng: Double

    init(lat: Double, lng: Double) {
        self.lat = lat
        self.lng = lng
    }

    init(_ coordinate: Coordinate) {
        self.init(lat: coordinate.latitude, lng: coordinate.longitude)
    }

    /// The validated coordinate.
    /// - Throws: `GeoError` for an out-of-range or non-finite value.
    func coordinate() throws(GeoError) -> Coordinate {
        try Coordinate(latitude: lat, longitude: lng)
    }
}

/// Body of `PUT /v1/drivers/{driverId}/location`.
struct LocationUpdateRequest: Decodable, Equatable {
    let lat: Double
    let lng: Double
    /// When the device took the fix, RFC 3339.
    let recordedAt: String?
}

/// Body of `PUT /v1/drivers/{driverId}/status`.
struct StatusUpdateRequest: Decodable {
    let status: String
}

/// A driver as `GET /v1/drivers/{driverId}` returns it.
struct DriverResponse: ResponseCodable, Equatable {
    let id: String
    let status: String
    let location: LatLng
    let updatedAt: String

    init(_ driver: Driver) {
        id = driver.id.rawValue
        status = driver.status.rawValue
        location = LatLng(driver.location)
        updatedAt = Timestamps.format(driver.updatedAt)
    }
}

/// The answer of `GET /v1/drivers/nearby`.
struct NearbyDriversResponse: ResponseCodable, Equatable {
    struct NearbyDriver: Codable, Equatable {
        /// Only for operators: a rider sees cars on a map, not who drives them.
        let id: String?
        let location: LatLng
        let distanceMeters: Double
    }

    let drivers: [NearbyDriver]
}
