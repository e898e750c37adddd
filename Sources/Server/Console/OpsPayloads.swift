import DispatchCore
import Foundation
import Geo
import Hummingbird

/// `GET /v1/ops/rides/{rideId}`: a ride's decision record, for operators.
struct OpsRideResponse: ResponseEncodable {
    /// The ride now, while the dispatcher still holds it.
    let ride: RideNow?
    /// Each offer made, in order: why that driver, and how it ended.
    let offers: [OfferDecision]
    /// The ride's recent events, oldest first.
    let events: [OpsEvent]

    struct RideNow: Encodable {
        let id: String
        let status: String
        let pickup: LatLng
        let dropoff: LatLng
        let searchRadiusMeters: Double
        let driverId: String?
        let requestedAt: String
    }

    struct OfferDecision: Encodable {
        let driverId: String
        let at: String
        let matching: String
        /// What the candidates were ranked by: `distance`, `eta` or `eta-acceptance`.
        let ranking: String
        /// The rule and its settings (`AcceptanceModel.version` under `eta-acceptance`).
        let policy: String
        let radiusMeters: Double
        /// The chosen driver's place among the candidates, 1 for the best ranked.
        let rank: Int
        let pickupDistanceMeters: Double
        let etaSeconds: Double
        let outcome: String
        let candidates: [Candidate]
    }

    struct Candidate: Encodable {
        let driverId: String
        let location: LatLng
        let distanceMeters: Double
        let etaSeconds: Double
        /// The estimated chance of accepting, under `eta-acceptance`.
        let acceptance: Double?
        /// What the ranking minimised: metres, seconds of ETA, or expected seconds until on the way.
        let score: Double
        let chosen: Bool
    }

    init(ride: Ride?, decision: OpsRecorder.Decision) {
        self.ride = ride.map {
            RideNow(
                id: $0.id.rawValue,
                status: $0.status.rawValue,
                pickup: LatLng($0.pickup),
                dropoff: LatLng($0.dropoff),
                searchRadiusMeters: $0.search.radius.value,
                driverId: $0.heldBy?.rawValue,
                requestedAt: Timestamps.format($0.requestedAt)
            )
        }
        offers = decision.offers.map { record in
            let explanation = record.offer.explanation
            return OfferDecision(
                driverId: record.offer.driverID.rawValue,
                at: Timestamps.format(record.offer.offeredAt),
                matching: explanation.matching.rawValue,
                ranking: explanation.ranking.rawValue,
                policy: explanation.policy,
                radiusMeters: explanation.radius.value,
                rank: explanation.rank,
                pickupDistanceMeters: (explanation.pickupDistance.value * 10).rounded() / 10,
                etaSeconds: (explanation.eta.timeInterval * 10).rounded() / 10,
                outcome: record.outcome,
                candidates: explanation.considered.map {
                    Candidate(
                        driverId: $0.driverID.rawValue,
                        location: LatLng($0.location),
                        distanceMeters: ($0.distance.value * 10).rounded() / 10,
                        etaSeconds: ($0.eta.timeInterval * 10).rounded() / 10,
                        acceptance: $0.acceptance.map { ($0 * 1_000).rounded() / 1_000 },
                        score: ($0.score * 10).rounded() / 10,
                        chosen: $0.driverID == record.offer.driverID
                    )
                }
            )
        }
        events = decision.events.map(OpsEvent.init)
    }
}

/// `GET /v1/ops/drivers/{driverId}`: a driver now and its recent events, for operators.
struct OpsDriverResponse: ResponseEncodable {
    let id: String
    /// `available`, `stale`, `offline`, `offered`, `en_route` or `on_trip`: the colour on the map.
    let state: String
    let location: LatLng
    let updatedAt: String
    let rideId: String?
    let events: [OpsEvent]

    init(driver: Driver, stale: Bool, events: [OpsRecorder.EventRecord]) {
        id = driver.id.rawValue
        state = OpsFeed.mark(driver, stale: stale).state.rawValue
        location = LatLng(driver.location)
        updatedAt = Timestamps.format(driver.updatedAt)
        rideId = driver.rideID?.rawValue
        self.events = events.map(OpsEvent.init)
    }
}

/// One event in an ops answer.
struct OpsEvent: Encodable {
    let type: String
    let at: String
    let rideId: String
    let status: String
    let driverId: String?
    let reason: String?

    init(_ record: OpsRecorder.EventRecord) {
        type = record.kind.rawValue
        at = Timestamps.format(record.at)
        rideId = record.rideID.rawValue
        status = record.status.rawValue
        driverId = record.driverID?.rawValue
        reason = record.reason
    }
}
