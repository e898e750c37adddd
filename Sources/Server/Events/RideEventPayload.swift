import DispatchCore
import Foundation
import Geo

/// A domain event's one wire encoding: the `data:` line of the event streams, the driver channel's
/// events, `ride_events.payload` in PostgreSQL and the dead letters all use it, so a replay from the
/// database is byte for byte what was streamed live.
struct RideEventPayload: Codable, Equatable {
    /// Why an offer was made, with the offer's terms.
    struct OfferPayload: Codable, Equatable {
        let driverId: String
        /// Where the rider waits and goes, so a driver app needs no second request to see the offer
        /// (absent in events stored before they were added).
        let pickup: LatLng?
        let dropoff: LatLng?
        let expiresAt: String
        let pickupDistanceMeters: Double
        let matching: String
        let radiusMeters: Double
        let candidates: Int
        let rank: Int
        /// What the candidates were ranked by, and the chosen driver's time to the pickup (absent in
        /// events stored before they were added).
        let ranking: String?
        let etaSeconds: Double?
    }

    let rideId: String
    let riderId: String
    let sequence: Int
    let type: String
    let at: String
    let status: String
    let driverId: String?
    let offer: OfferPayload?
    let searchRadiusMeters: Double?
    let pickupDistanceMeters: Double?
    /// The operator who did this for the rider or driver (support), when one did.
    let operatorId: String?
    /// Why the service or an operator changed the ride, when one says (`assignment_lapsed`, a
    /// completion by the trip watchdog, an operator's ending).
    let reason: String?

    init(_ event: RideEvent) {
        rideId = event.rideID.rawValue
        riderId = event.riderID.rawValue
        sequence = event.sequence
        type = event.kind.rawValue
        at = Timestamps.format(event.at)
        status = event.status.rawValue
        driverId = event.driverID?.rawValue
        offer = event.offer.map { offer in
            OfferPayload(
                driverId: offer.driverID.rawValue,
                pickup: LatLng(offer.pickup),
                dropoff: LatLng(offer.dropoff),
                expiresAt: Timestamps.format(offer.expiresAt),
                pickupDistanceMeters: (offer.explanation.pickupDistance.value * 10).rounded() / 10,
                matching: offer.explanation.matching.rawValue,
                radiusMeters: offer.explanation.radius.value,
                candidates: offer.explanation.candidates,
                rank: offer.explanation.rank,
                ranking: offer.explanation.ranking.rawValue,
                etaSeconds: (offer.explanation.eta.timeInterval * 10).rounded() / 10
            )
        }
        searchRadiusMeters = event.searchRadius?.value
        pickupDistanceMeters = event.pickupDistance.map { ($0.value * 10).rounded() / 10 }
        operatorId = event.operatorID?.rawValue
        reason = event.reason
    }
}

extension RideEventPayload {
    /// An event as the streams and the driver channel carry it: one line of JSON.
    static func json(_ event: RideEvent) -> String {
        (try? JSONBody.encoder.encode(RideEventPayload(event))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
