import DispatchCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@testable import DispatchServer

/// `GET /v1/ops/rides/{rideId}/decision` as the API returns it.
struct DecisionListJSON: Decodable {
    struct Entry: Decodable {
        let record: DecisionRecordJSON
        let replay: Replay
    }
    struct Replay: Decodable {
        let verdict: String
        let details: [String]
    }
    let rideId: String
    let decisions: [Entry]
}

@Suite("Stored, replayable decision records", .serialized)
struct DecisionRecordTests {
    /// PostgreSQL storage, ranking by who will accept (so the records carry offer histories).
    func application(_ database: DatabaseConfiguration) -> some ApplicationProtocol {
        var configuration = postgresConfiguration(database)
        configuration.dispatch.ranking = .etaAcceptance
        return buildApplication(
            configuration: configuration,
            dependencies: ApplicationDependencies(metricsRegistry: TestMetrics.registry)
        ).application
    }

    @Test("every offer's record is stored with its event, served to operators after a restart, and replays")
    func storedAndReplayed() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await TestDatabase.withClient(database) { postgres in
                let id = try await application(database).test(.live) { client in
                    try await client.placeDriver("d1", metersNorth: 100)
                    try await client.placeDriver("d2", metersNorth: 400)
                    try await client.placeDriver("d3", metersNorth: 900)
                    let created = try await client.send(.post, "/v1/rides", json: rideBody)
                    let id = try created.json(RideJSON.self).id
                    // d1 declines: the ride is offered again, to d2, whose record knows d1 declined.
                    let declined = try await client.send(.post, "/v1/rides/\(id)/decline", json: #"{"driverId": "d1"}"#)
                    #expect(declined.status == .ok)
                    let listed = try await client.send(.get, "/v1/ops/rides/\(id)/decision", caller: .ops("ops-1"))
                    #expect(listed.status == .ok)
                    let decisions = try listed.json(DecisionListJSON.self).decisions
                    #expect(decisions.map(\.record.driverId) == ["d1", "d2"])
                    #expect(decisions.allSatisfy { $0.replay.verdict == "reproduced" })
                    // Only operators read them: they name other drivers.
                    let asRider = try await client.send(
                        .get,
                        "/v1/ops/rides/\(id)/decision",
                        caller: .rider("rider-1")
                    )
                    #expect(asRider.status == .forbidden)
                    let unknown = try await client.send(.get, "/v1/ops/rides/nope/decision", caller: .ops("ops-1"))
                    #expect(unknown.status == .notFound)
                    #expect(unknown.errorCode == "ride_not_found")
                    return id
                }
                // Stored with their events: each row's key is a ride_offered event's.
                var rows: [(Int32, String, String)] = []
                for try await row in try await postgres.query(
                    "SELECT d.sequence, e.type, d.driver_id FROM offer_decisions d JOIN ride_events e USING (ride_id, sequence) WHERE d.ride_id = \(id) ORDER BY d.sequence"
                ).decode((Int32, String, String).self) {
                    rows.append(row)
                }
                #expect(rows.map(\.1) == ["ride_offered", "ride_offered"])
                #expect(rows.map(\.2) == ["d1", "d2"])

                // After a restart the records come from the database, whole.
                try await application(database).test(.live) { client in
                    let listed = try await client.send(.get, "/v1/ops/rides/\(id)/decision", caller: .ops("ops-1"))
                    let decisions = try listed.json(DecisionListJSON.self).decisions
                    #expect(decisions.count == 2)
                    let second = try #require(decisions.last?.record)
                    #expect(second.ranking == "eta-acceptance")
                    #expect(second.policy == AcceptanceModel().version)
                    #expect(second.candidates.map(\.driverId) == ["d2", "d3"])
                    // d1 is not a candidate any more; d2's and d3's histories are empty yet.
                    #expect(second.candidates.allSatisfy { ($0.history?.declined ?? -1) == 0 })
                    #expect(second.candidates.allSatisfy { $0.acceptance == 0.8 })
                }

                // `dispatch-server replay` re-runs both.
                let replayed = try await ReplayCommand.replay(
                    ReplayCommand.Request(),
                    on: postgres,
                    logger: TestDatabase.logger
                ) { _ in }
                #expect(replayed == ReplayCommand.Summary(reproduced: 2))

                // A record changed after the fact is caught, by the command and by the API.
                try await postgres.query(
                    "UPDATE offer_decisions SET record = jsonb_set(record, '{candidates,0,etaSeconds}', '1') WHERE ride_id = \(id) AND sequence = \(Int32(rows[1].0))"
                )
                var said: [String] = []
                let tampered = try await ReplayCommand.replay(
                    ReplayCommand.Request(),
                    on: postgres,
                    logger: TestDatabase.logger
                ) { said.append($0) }
                #expect(tampered.differs == 1)
                #expect(!tampered.passed)
                #expect(said.count == 1)
                #expect(said.first?.hasPrefix("differs \(id)#") == true)
                try await application(database).test(.live) { client in
                    let listed = try await client.send(.get, "/v1/ops/rides/\(id)/decision", caller: .ops("ops-1"))
                    let verdicts = try listed.json(DecisionListJSON.self).decisions.map(\.replay.verdict)
                    #expect(verdicts == ["reproduced", "differs"])
                }
            }
        }
    }

    @Test("replay pages through many decisions without splitting or repeating any")
    func paging() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await TestDatabase.withClient(database) { postgres in
                try await application(database).test(.live) { client in
                    for driver in 0..<6 {
                        try await client.placeDriver("d\(driver)", metersNorth: Double(100 + driver * 50))
                    }
                    for rider in 0..<5 {
                        let body = rideBody.replacingOccurrences(of: "rider-1", with: "rider-\(rider)")
                        #expect(try await client.send(.post, "/v1/rides", json: body).status == .created)
                    }
                }
                var said: [String] = []
                let summary = try await ReplayCommand.replay(
                    ReplayCommand.Request(verbose: true),
                    on: postgres,
                    pageSize: 2,
                    logger: TestDatabase.logger
                ) { said.append($0) }
                #expect(summary == ReplayCommand.Summary(reproduced: 5))
                #expect(Set(said).count == 5)
                let limited = try await ReplayCommand.replay(
                    ReplayCommand.Request(limit: 3),
                    on: postgres,
                    pageSize: 2,
                    logger: TestDatabase.logger
                ) { _ in }
                #expect(limited.total == 3)
            }
        }
    }

    @Test("in memory the recent rides' records are served the same way")
    func inMemory() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.placeDriver("d1", metersNorth: 100)
            try await client.placeDriver("d2", metersNorth: 300)
            let id = try await client.send(.post, "/v1/rides", json: rideBody).json(RideJSON.self).id
            let listed = try await client.send(.get, "/v1/ops/rides/\(id)/decision", caller: .ops("ops-1"))
            let list = try listed.json(DecisionListJSON.self)
            #expect(list.rideId == id)
            #expect(list.decisions.map(\.record.driverId) == ["d1"])
            #expect(list.decisions.first?.record.candidates.map(\.driverId) == ["d1", "d2"])
            #expect(list.decisions.first?.record.sequence == 2)
            #expect(list.decisions.first?.replay.verdict == "reproduced")
        }
    }

    @Test("the replay command's flags")
    func flags() throws {
        #expect(try ReplayCommand.parse([]) == ReplayCommand.Request())
        let parsed = try ReplayCommand.parse([
            "--ride", "ride-1", "--since", "2026-12-01T00:00:00Z", "--limit", "10", "--verbose",
        ])
        #expect(parsed.ride?.rawValue == "ride-1")
        #expect(parsed.since == Timestamps.parse("2026-12-01T00:00:00Z"))
        #expect(parsed.limit == 10)
        #expect(parsed.verbose)
        for bad in [["--limit", "0"], ["--since", "yesterday"], ["--ride", "a b"], ["--what", "x"], ["--limit"]] {
            #expect(throws: ConfigurationError.self) { try ReplayCommand.parse(bad) }
        }
    }
}
