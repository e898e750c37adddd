import Foundation
import Geo

/// Re-runs recorded dispatch decisions from their records alone and says whether each is what its
/// policy gives for those inputs: any offer can be explained after the fact.
///
/// For every record it recomputes each candidate's score from its features under the recorded policy
/// (distance; ETA; or, under `Ranking.etaAcceptance`, the acceptance estimate and the cost of a miss
/// from the driver's recorded history, with the recorded model's settings), ranks the candidates as
/// the live matcher does, and checks the recorded scores, order and choice:
/// - greedy: the chosen driver is the best ranked;
/// - batch: the optimal assignment is re-run over the decision's group (the rides offered in the same
///   batch that shared candidates), when every ride of the group has a record. A ride of the group
///   that got no offer left no record, and then only the scores and order are checked.
///
/// The ETAs themselves are inputs: the road router that made them is checked against a Dijkstra
/// oracle in the tests, not here.
public enum DecisionReplay {
    /// One recorded decision, in the units it is stored in (seconds as `Double`, so that a score
    /// recomputes bit for bit).
    public struct Record: Hashable, Sendable {
        public var rideID: RideID
        public var requestedAt: Date
        public var offeredAt: Date
        public var driverID: DriverID
        public var matching: MatchingMode
        public var ranking: Ranking
        public var policy: String
        public var rank: Int
        public var group: Int
        public var offerTimeoutSeconds: Double
        public var acceptanceModel: AcceptanceModel?
        public var candidates: [Candidate]

        public struct Candidate: Hashable, Sendable {
            public var driverID: DriverID
            public var location: Coordinate
            public var distanceMeters: Double
            public var etaSeconds: Double
            public var acceptance: Double?
            public var score: Double
            /// The decayed counts at the decision: accepted, declined, expired.
            public var history: History?

            public init(
                driverID: DriverID,
                location: Coordinate,
                distanceMeters: Double,
                etaSeconds: Double,
                acceptance: Double?,
                score: Double,
                history: History?
            ) {
                self.driverID = driverID
                self.location = location
                self.distanceMeters = distanceMeters
                self.etaSeconds = etaSeconds
                self.acceptance = acceptance
                self.score = score
                self.history = history
            }
        }

        public struct History: Hashable, Sendable {
            public var accepted: Double
            public var declined: Double
            public var expired: Double

            public init(accepted: Double, declined: Double, expired: Double) {
                self.accepted = accepted
                self.declined = declined
                self.expired = expired
            }
        }

        public init(
            rideID: RideID,
            requestedAt: Date,
            offeredAt: Date,
            driverID: DriverID,
            matching: MatchingMode,
            ranking: Ranking,
            policy: String,
            rank: Int,
            group: Int,
            offerTimeoutSeconds: Double,
            acceptanceModel: AcceptanceModel?,
            candidates: [Candidate]
        ) {
            self.rideID = rideID
            self.requestedAt = requestedAt
            self.offeredAt = offeredAt
            self.driverID = driverID
            self.matching = matching
            self.ranking = ranking
            self.policy = policy
            self.rank = rank
            self.group = group
            self.offerTimeoutSeconds = offerTimeoutSeconds
            self.acceptanceModel = acceptanceModel
            self.candidates = candidates
        }

        /// The record of a live offer (what the store keeps of it).
        public init(offer: Offer, requestedAt: Date) {
            let explanation = offer.explanation
            self.init(
                rideID: offer.rideID,
                requestedAt: requestedAt,
                offeredAt: offer.offeredAt,
                driverID: offer.driverID,
                matching: explanation.matching,
                ranking: explanation.ranking,
                policy: explanation.policy,
                rank: explanation.rank,
                group: explanation.group,
                offerTimeoutSeconds: explanation.offerTimeout.timeInterval,
                acceptanceModel: explanation.acceptanceModel,
                candidates: explanation.considered.map {
                    Candidate(
                        driverID: $0.driverID,
                        location: $0.location,
                        distanceMeters: $0.distance.value,
                        etaSeconds: $0.eta.timeInterval,
                        acceptance: $0.acceptance,
                        score: $0.score,
                        history: $0.history.map {
                            History(accepted: $0.accepted, declined: $0.declined, expired: $0.expired)
                        }
                    )
                }
            )
        }
    }

    /// What the replay found for one record.
    public enum Verdict: Hashable, Sendable {
        /// Scores, order and choice are what the policy gives.
        case reproduced
        /// Scores and order are; the batch assignment could not be re-run (the reason says why).
        case rankingReproduced(String)
        /// Something differs: what, one line each.
        case differs([String])
        /// The record names a policy this build does not know.
        case unknownPolicy(String)
    }

    public struct Finding: Hashable, Sendable {
        public let rideID: RideID
        public let offeredAt: Date
        public let driverID: DriverID
        public let verdict: Verdict
    }

    /// Replays the records (any order; a batch's group is found among them by offer time).
    public static func replay(_ records: [Record]) -> [Finding] {
        var problems: [[String]] = []
        var notes: [String?] = Array(repeating: nil, count: records.count)
        var unknown: [String?] = Array(repeating: nil, count: records.count)
        var rescored: [Matcher.Candidates] = []
        for record in records {
            switch rank(record) {
            case .success(let (candidates, found)):
                rescored.append(candidates)
                problems.append(found)
            case .failure(let failure):
                rescored.append([])
                problems.append([])
                unknown[problems.count - 1] = failure.reason
            }
        }
        // Batch: the records of one batch, by offer time, then each group of rides sharing candidates.
        var batches: [Date: [Int]] = [:]
        for (index, record) in records.enumerated() where record.matching == .batch && unknown[index] == nil {
            batches[record.offeredAt, default: []].append(index)
        }
        for indices in batches.values {
            let ordered = indices.sorted {
                (records[$0].requestedAt, records[$0].rideID) < (records[$1].requestedAt, records[$1].rideID)
            }
            for group in Matcher.independentGroups(ordered.map { rescored[$0] }) {
                let members = group.map { ordered[$0] }
                guard members.allSatisfy({ records[$0].group == members.count }) else {
                    for member in members {
                        notes[member] =
                            "batch group of \(records[member].group) rides, \(members.count) offered: "
                            + "the assignment is not re-run"
                    }
                    continue
                }
                let choices = Matcher.batch(members.map { rescored[$0] })
                for (position, member) in members.enumerated() {
                    let chosen = choices[position].map { rescored[member][$0].key }
                    if chosen != records[member].driverID {
                        problems[member].append(
                            "the batch assignment gives \(chosen.map(\.rawValue) ?? "no driver"), "
                                + "the record \(records[member].driverID)"
                        )
                    }
                }
            }
        }
        return records.enumerated().map { index, record in
            let verdict: Verdict
            if let reason = unknown[index] {
                verdict = .unknownPolicy(reason)
            } else if !problems[index].isEmpty {
                verdict = .differs(problems[index])
            } else if let note = notes[index] {
                verdict = .rankingReproduced(note)
            } else {
                verdict = .reproduced
            }
            return Finding(
                rideID: record.rideID,
                offeredAt: record.offeredAt,
                driverID: record.driverID,
                verdict: verdict
            )
        }
    }

    private struct UnknownPolicy: Error {
        let reason: String
    }

    /// Rescores and re-ranks one record's candidates; checks scores, order and (greedy) the choice.
    private static func rank(_ record: Record) -> Result<(Matcher.Candidates, [String]), UnknownPolicy> {
        var problems: [String] = []
        let score: (Record.Candidate) -> (score: Double, acceptance: Double?)
        switch record.ranking {
        case .distance, .eta:
            guard record.policy == record.ranking.rawValue else {
                return .failure(UnknownPolicy(reason: "policy \"\(record.policy)\" under ranking \(record.ranking)"))
            }
            score = { (record.ranking == .distance ? $0.distanceMeters : $0.etaSeconds, nil) }
        case .etaAcceptance:
            guard let model = record.acceptanceModel, model.version == record.policy else {
                return .failure(
                    UnknownPolicy(reason: "policy \"\(record.policy)\" is not this build's acceptance model")
                )
            }
            let at = record.offeredAt
            let timeout = Duration.seconds(record.offerTimeoutSeconds)
            score = { candidate in
                let counts = candidate.history ?? Record.History(accepted: 0, declined: 0, expired: 0)
                let history = OfferHistory(
                    accepted: counts.accepted,
                    declined: counts.declined,
                    expired: counts.expired,
                    asOf: at
                )
                let acceptance = model.acceptance(history, now: at)
                let lost = model.lostOnMiss(history, now: at, offerTimeout: timeout)
                return (
                    model.score(etaSeconds: candidate.etaSeconds, acceptance: acceptance, lostOnMiss: lost), acceptance
                )
            }
        }
        var rescored: Matcher.Candidates = []
        for candidate in record.candidates {
            let (value, acceptance) = score(candidate)
            if value != candidate.score {
                problems.append("\(candidate.driverID): score \(value), recorded \(candidate.score)")
            }
            if acceptance != candidate.acceptance {
                problems.append(
                    "\(candidate.driverID): acceptance \(acceptance.map { "\($0)" } ?? "none"), "
                        + "recorded \(candidate.acceptance.map { "\($0)" } ?? "none")"
                )
            }
            rescored.append(
                Matcher.Candidate(
                    key: candidate.driverID,
                    coordinate: candidate.location,
                    distance: Meters(candidate.distanceMeters),
                    eta: .seconds(candidate.etaSeconds),
                    cost: value,
                    acceptance: acceptance
                )
            )
        }
        // The live matcher's order and its ties (see `DispatchState.candidates(for:now:)`).
        let etaSeconds = Dictionary(record.candidates.map { ($0.driverID, $0.etaSeconds) }) { first, _ in first }
        let ranked = rescored.sorted { lhs, rhs in
            if record.ranking == .etaAcceptance {
                let (l, r) = (etaSeconds[lhs.key] ?? 0, etaSeconds[rhs.key] ?? 0)
                return (lhs.cost, l, lhs.distance, lhs.key) < (rhs.cost, r, rhs.distance, rhs.key)
            }
            return (lhs.cost, lhs.distance, lhs.key) < (rhs.cost, rhs.distance, rhs.key)
        }
        if ranked.map(\.key) != rescored.map(\.key) {
            problems.append(
                "the policy ranks \(ranked.map(\.key.rawValue).joined(separator: ", ")); "
                    + "the record \(rescored.map(\.key.rawValue).joined(separator: ", "))"
            )
        }
        if record.rank < 1 || record.rank > record.candidates.count
            || record.candidates[record.rank - 1].driverID != record.driverID
        {
            problems.append("rank \(record.rank) is not the offered driver \(record.driverID)")
        }
        if record.matching == .greedy, ranked.first?.key != record.driverID {
            problems.append(
                "greedy takes \(ranked.first.map(\.key.rawValue) ?? "no driver"), the record \(record.driverID)"
            )
        }
        return .success((ranked, problems))
    }
}
