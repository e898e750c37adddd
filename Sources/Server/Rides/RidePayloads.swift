import DispatchCore
import Foundation
import Geo
import Hummingbird

/// Body of `POST /v1/rides`. `riderId` may be left out (the token says who the rider is); when given it
/// must be the token's subject, and an operator must give it.
struct CreateRideRequest: Decodable {
    let riderId: String?
    let pickup: LatLng
    let dropoff: LatLng
}

/// Body of the driver actions (`accept`, `decline`, `arrive`, `start`, `complete`); `driverId` as
/// `riderId` above. An empty body is an empty object.
struct DriverActionRequest: Decodable {
    let driverId: String?
}

/// Body of `POST /v1/rides/{rideId}/cancel`: the rider, or the assigned driver.
///
/// Either field may be absent, but one that is present must be a string: `null` is refused rather
/// than read as absent, so `{"driverId": "d1", "riderId": null}` is not a driver's cancellation.
struct CancelRideRequest: Decodable {
    let riderId: String?
    let driverId: String?

    enum CodingKeys: String, CodingKey {
        case riderId, driverId
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func string(_ key: CodingKeys) throws -> String? {
            guard container.contains(key) else { return nil }
            if try container.decodeNil(forKey: key) {
                throw DecodingError.typeMismatch(
                    String.self,
                    .init(codingPath: container.codingPath + [key], debugDescription: "null is not a string")
                )
            }
            return try container.decode(String.self, forKey: key)
        }
        riderId = try string(.riderId)
        driverId = try string(.driverId)
    }
}

/// `POST /v1/rides/{rideId}/end`: an operator ends a ride, `cancelled` or `completed`, saying why.
struct EndRideRequest: Decodable {
    let outcome: String
    let reason: String

    /// The outcome and the reason, checked: 1–500 characters of reason (not only spaces), no control
    /// characters; the reason is stored trimmed.
    func validated() throws -> (RideEnding, String) {
        guard let ending = RideEnding(rawValue: outcome) else {
            throw APIError(
                .badRequest,
                code: "invalid_outcome",
                "outcome must be \"cancelled\" or \"completed\", got \"\(outcome.prefix(32))\""
            )
        }
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        // Counted as JSON Schema counts (code points), before trimming.
        guard !trimmed.isEmpty, reason.unicodeScalars.count <= 500,
            !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw APIError(
                .badRequest,
                code: "invalid_reason",
                "reason must be 1-500 characters without control characters"
            )
        }
        return (ending, trimmed)
    }
}

/// A ride as the API shows it; fields without a value are omitted.
struct RideResponse: ResponseCodable, Equatable {
    let id: String
    let riderId: String
    let status: String
    let pickup: LatLng
    let dropoff: LatLng
    let driverId: String?
    let pickupDistanceMeters: Double?
    let etaSeconds: Int?
    let requestedAt: String
    let offeredAt: String?
    let acceptedAt: String?
    let arrivedAt: String?
    let startedAt: String?
    let completedAt: String?
    let cancelledAt: String?

    init(_ ride: Ride) {
        id = ride.id.rawValue
        riderId = ride.riderID.rawValue
        status = ride.status.rawValue
        pickup = LatLng(ride.pickup)
        dropoff = LatLng(ride.dropoff)
        driverId = ride.driverID?.rawValue
        pickupDistanceMeters = ride.pickupDistance.map { ($0.value * 10).rounded() / 10 }
        etaSeconds = ride.eta.map { Int($0.components.seconds) + ($0.components.attoseconds > 0 ? 1 : 0) }
        requestedAt = Timestamps.format(ride.requestedAt)
        offeredAt = ride.offeredAt.map(Timestamps.format)
        acceptedAt = ride.acceptedAt.map(Timestamps.format)
        arrivedAt = ride.arrivedAt.map(Timestamps.format)
        startedAt = ride.startedAt.map(Timestamps.format)
        completedAt = ride.completedAt.map(Timestamps.format)
        cancelledAt = ride.cancelledAt.map(Timestamps.format)
    }
}

/// A trip history, newest first.
struct RideHistoryResponse: ResponseCodable, Equatable {
    let rides: [RideResponse]
}

/// An open offer as `GET /v1/drivers/{driverId}/offer` shows it.
struct OfferResponse: ResponseCodable, Equatable {
    let rideId: String
    let pickup: LatLng
    let dropoff: LatLng
    let pickupDistanceMeters: Double
    /// The time to the pickup, in whole seconds rounded up (by road when the service ranks by ETA).
    let etaSeconds: Int
    let offeredAt: String
    let expiresAt: String

    init(_ offer: Offer) {
        rideId = offer.rideID.rawValue
        pickup = LatLng(offer.pickup)
        dropoff = LatLng(offer.dropoff)
        pickupDistanceMeters = (offer.explanation.pickupDistance.value * 10).rounded() / 10
        etaSeconds = Int(offer.explanation.eta.timeInterval.rounded(.up))
        offeredAt = Timestamps.format(offer.offeredAt)
        expiresAt = Timestamps.format(offer.expiresAt)
    }
}
