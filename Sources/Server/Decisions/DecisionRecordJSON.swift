import DispatchCore
import Foundation
import Geo

/// A decision record as it is stored (`offer_decisions.record`) and served to operators
/// (`GET /v1/ops/rides/{rideId}/decision`): everything `DecisionReplay` needs to re-run the decision,
/// in full precision. It names every candidate driver, so it is for operators only.
struct DecisionRecordJSON: Codable, Equatable, Sendable {
    let rideId: String
    /// The `ride_offered` event's sequence in the ride.
    let sequence: Int
    let driverId: String
    let requestedAt: String
    let offeredAt: String
    let matching: String
    let ranking: String
    let policy: String
    let radiusMeters: Double
    /// The offered driver's place among the candidates, 1 for the best ranked.
    let rank: Int
    /// The rides that competed for these candidates (1 under greedy; the batch group otherwise).
    let group: Int
    let offerTimeoutSeconds: Double
    /// The acceptance model's settings under `eta-acceptance`.
    let acceptanceModel: Model?
    let candidates: [Candidate]

    struct Model: Codable, Equatable, Sendable {
        let prior: Double
        let priorWeight: Double
        let halfLifeSeconds: Double
        let declineCostSeconds: Double
        let weight: Double
    }

    struct Candidate: Codable, Equatable, Sendable {
        let driverId: String
        let location: LatLng
        let distanceMeters: Double
        let etaSeconds: Double
        let acceptance: Double?
        let score: Double
        /// The driver's decayed offer counts at the decision, under `eta-acceptance`.
        let history: History?
    }

    struct History: Codable, Equatable, Sendable {
        let accepted: Double
        let declined: Double
        let expired: Double
    }

    /// The record of an offer made as the ride's event `sequence`.
    init(offer: Offer, sequence: Int, requestedAt: Date) {
        let record = DecisionReplay.Record(offer: offer, requestedAt: requestedAt)
        rideId = offer.rideID.rawValue
        self.sequence = sequence
        driverId = offer.driverID.rawValue
        self.requestedAt = Timestamps.format(requestedAt)
        offeredAt = Timestamps.format(offer.offeredAt)
        matching = record.matching.rawValue
        ranking = record.ranking.rawValue
        policy = record.policy
        radiusMeters = offer.explanation.radius.value
        rank = record.rank
        group = record.group
        offerTimeoutSeconds = record.offerTimeoutSeconds
        acceptanceModel = record.acceptanceModel.map {
            Model(
                prior: $0.prior,
                priorWeight: $0.priorWeight,
                halfLifeSeconds: $0.halfLife.timeInterval,
                declineCostSeconds: $0.declineCost.timeInterval,
                weight: $0.weight
            )
        }
        candidates = record.candidates.map {
            Candidate(
                driverId: $0.driverID.rawValue,
                location: LatLng($0.location),
                distanceMeters: $0.distanceMeters,
                etaSeconds: $0.etaSeconds,
                acceptance: $0.acceptance,
                score: $0.score,
                history: $0.history.map { History(accepted: $0.accepted, declined: $0.declined, expired: $0.expired) }
            )
        }
    }

    /// The record for `DecisionReplay`.
    /// - Throws: `StoredDataError` for a record that does not decode (a bug or a hand-edited row).
    func replayRecord() throws -> DecisionReplay.Record {
        guard let requested = Timestamps.parse(requestedAt), let offered = Timestamps.parse(offeredAt) else {
            throw StoredDataError("decision \(rideId)#\(sequence) has an unreadable time")
        }
        guard let matchingMode = MatchingMode(rawValue: matching), let rankedBy = Ranking(rawValue: ranking) else {
            throw StoredDataError("decision \(rideId)#\(sequence) has matching \(matching), ranking \(ranking)")
        }
        do {
            return DecisionReplay.Record(
                rideID: try RideID(rideId),
                requestedAt: requested,
                offeredAt: offered,
                driverID: try DriverID(driverId),
                matching: matchingMode,
                ranking: rankedBy,
                policy: policy,
                rank: rank,
                group: group,
                offerTimeoutSeconds: offerTimeoutSeconds,
                acceptanceModel: acceptanceModel.map {
                    var model = AcceptanceModel()
                    model.prior = $0.prior
                    model.priorWeight = $0.priorWeight
                    model.halfLife = .seconds($0.halfLifeSeconds)
                    model.declineCost = .seconds($0.declineCostSeconds)
                    model.weight = $0.weight
                    return model
                },
                candidates: try candidates.map {
                    DecisionReplay.Record.Candidate(
                        driverID: try DriverID($0.driverId),
                        location: try Coordinate(latitude: $0.location.lat, longitude: $0.location.lng),
                        distanceMeters: $0.distanceMeters,
                        etaSeconds: $0.etaSeconds,
                        acceptance: $0.acceptance,
                        score: $0.score,
                        history: $0.history.map {
                            DecisionReplay.Record.History(
                                accepted: $0.accepted,
                                declined: $0.declined,
                                expired: $0.expired
                            )
                        }
                    )
                }
            )
        } catch {
            throw StoredDataError("decision \(rideId)#\(sequence) names an invalid ID or place: \(error)")
        }
    }

    /// The record as stored.
    func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain values cannot fail.
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension DecisionReplay.Verdict {
    /// `reproduced`, `ranking-reproduced`, `differs` or `unknown-policy`, as the API and the replay
    /// command say it.
    var name: String {
        switch self {
        case .reproduced: "reproduced"
        case .rankingReproduced: "ranking-reproduced"
        case .differs: "differs"
        case .unknownPolicy: "unknown-policy"
        }
    }

    /// What differs, or why the assignment was not re-run; empty when reproduced.
    var details: [String] {
        switch self {
        case .reproduced: []
        case .rankingReproduced(let note): [note]
        case .differs(let problems): problems
        case .unknownPolicy(let reason): [reason]
        }
    }
}
