import DispatchCore
import Foundation
import Hummingbird
import HummingbirdAuth

/// `GET /v1/ops/rides/{rideId}/decision`: a ride's stored decision records, one per offer, each with
/// what replaying it from the record alone gives. Operators only: a record names every candidate.
///
/// With PostgreSQL the records are read from `offer_decisions`, so they outlive the process and the
/// console's memory; in memory mode they are the last `OpsRecorder` rides'. A batch decision is
/// replayed here without the other rides of its batch (its scores and order are checked);
/// `dispatch-server replay` re-runs whole batches.
struct DecisionController<Context: AuthRequestContext<Caller>> {
    let rides: any RideRepository

    func addRoutes(to router: Router<Context>, catalog: RouteCatalog) {
        catalog.register(.get, "/v1/ops/rides/:rideId/decision", on: router, use: decision)
    }

    @Sendable func decision(_ request: Request, context: Context) async throws -> DecisionResponse {
        guard try context.caller().role == .ops else {
            throw APIError.forbidden("the ops routes take an operator's token")
        }
        let id = try RideID(context.parameters.get("rideId") ?? "")
        let records = try await rides.decisions(of: id)
        if records.isEmpty, try await rides.ride(id) == nil {
            throw DispatchError(.rideNotFound, "no ride with ID \(id)")
        }
        return try DecisionResponse(rideID: id, records: records)
    }
}

/// A ride's decision records and their replay.
struct DecisionResponse: ResponseEncodable {
    let rideId: String
    let decisions: [Entry]

    struct Entry: Encodable {
        let record: DecisionRecordJSON
        let replay: Replay
    }

    struct Replay: Encodable {
        /// `reproduced`, `ranking-reproduced`, `differs` or `unknown-policy`.
        let verdict: String
        let details: [String]
    }

    init(rideID: RideID, records: [DecisionRecordJSON]) throws {
        let findings = DecisionReplay.replay(try records.map { try $0.replayRecord() })
        rideId = rideID.rawValue
        decisions = zip(records, findings).map { record, finding in
            Entry(record: record, replay: Replay(verdict: finding.verdict.name, details: finding.verdict.details))
        }
    }
}
