import DispatchTestSupport
import Foundation
import Geo
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DispatchCore
@testable import DispatchServer

@Suite("Fairness by driver cohort")
struct FairnessTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("the Gini coefficient: 0 for equal shares, (n − 1) / n when one driver has everything")
    func gini() {
        #expect(FairnessLedger.gini([2, 2, 2, 2]) == 0)
        #expect(abs((FairnessLedger.gini([0, 0, 0, 4]) ?? 0) - 0.75) < 1e-12)
        // 1, 2, 3: mean absolute difference 4/3 over twice the mean 4 = 1/3 ... times n/n: 2/9.
        #expect(abs((FairnessLedger.gini([3, 1, 2]) ?? 0) - 2.0 / 9.0) < 1e-12)
        #expect(FairnessLedger.gini([5]) == nil)
        #expect(FairnessLedger.gini([0, 0]) == 0)
    }

    func candidate(_ id: String, eta: Double, acceptance: Double? = nil) throws -> OfferExplanation.Candidate {
        OfferExplanation.Candidate(
            driverID: try DriverID(id),
            location: try Coordinate(latitude: 37.5, longitude: 127),
            distance: Meters(eta * 7),
            eta: .seconds(eta),
            acceptance: acceptance,
            score: eta,
            history: nil
        )
    }

    func offer(to chosen: String, among candidates: [OfferExplanation.Candidate]) throws -> Offer {
        let explanation = OfferExplanation(
            matching: .greedy,
            ranking: .eta,
            policy: "eta",
            radius: Meters(3_000),
            candidates: candidates.count,
            rank: 1,
            pickupDistance: Meters(100),
            eta: .seconds(60),
            offerTimeout: .seconds(15),
            acceptanceModel: nil,
            group: 1,
            considered: candidates
        )
        return Offer(
            rideID: try RideID("ride-1"),
            driverID: try DriverID(chosen),
            pickup: try Coordinate(latitude: 37.5, longitude: 127),
            dropoff: try Coordinate(latitude: 37.6, longitude: 127),
            offeredAt: start,
            expiresAt: start + 15,
            explanation: explanation
        )
    }

    @Test("an offer counts a pair for each equally good candidate of another cohort, and no other")
    func comparablePairs() throws {
        var settings = FairnessLedger.Settings()
        settings.cohorts = ["franchise", "independent"]
        var ledger = FairnessLedger(settings: settings)
        #expect(ledger.labels == ["franchise", "independent", "other", "none"])
        let cohorts = ["f1": 0, "f2": 0, "i1": 1, "i2": 1, "n1": 3]
        let pairs = ledger.offered(
            try offer(
                to: "f1",
                among: [
                    try candidate("f1", eta: 100), try candidate("f2", eta: 101),  // same cohort: no pair
                    try candidate("i1", eta: 109),  // within 10 %: a pair
                    try candidate("i2", eta: 140),  // 40 s slower: not comparable
                    try candidate("n1", eta: 95),  // within 15 s: a pair with `none`
                ]
            )
        ) { cohorts[$0.rawValue] ?? 3 }
        #expect(Set(pairs) == [.init(offered: 0, passedOver: 1), .init(offered: 0, passedOver: 3)])
        // Acceptance must agree too, within 0.05.
        #expect(
            ledger.comparable(
                try candidate("a", eta: 60, acceptance: 0.8),
                try candidate("b", eta: 60, acceptance: 0.84)
            )
        )
        #expect(
            !ledger.comparable(
                try candidate("a", eta: 60, acceptance: 0.8),
                try candidate("b", eta: 60, acceptance: 0.9)
            )
        )
        #expect(!ledger.comparable(try candidate("a", eta: 60, acceptance: 0.8), try candidate("b", eta: 60)))
        #expect(ledger.index(of: "franchise") == 0)
        #expect(ledger.index(of: "elsewhere") == 2)
        #expect(ledger.index(of: nil) == 3)
    }

    @Test("offers per hour at work decay with the half-life; a driver who works less is not compared")
    func rates() throws {
        var settings = FairnessLedger.Settings()
        settings.halfLife = .seconds(600)
        settings.minimumWorkSeconds = 300
        var ledger = FairnessLedger(settings: settings)
        let (a, b, c) = (try DriverID("a"), try DriverID("b"), try DriverID("c"))
        // Followed from their second tick at work: the first only notes them.
        ledger.worked([a, b, c], seconds: 0)
        #expect(ledger.drivers.isEmpty)
        ledger.worked([a, b, c], seconds: 100)
        ledger.worked([a, b], seconds: 500)
        for _ in 0..<3 { _ = ledger.offered(try offer(to: "a", among: [])) { _ in 3 } }
        _ = ledger.offered(try offer(to: "b", among: [])) { _ in 3 }
        _ = ledger.offered(try offer(to: "c", among: [])) { _ in 3 }
        // a: 3 offers, b: 1, over the same time; c worked too little to count.
        #expect(abs((ledger.gini ?? 0) - 0.25) < 1e-9)
        ledger.worked([], seconds: 600)
        #expect(abs((ledger.drivers[a]?.offers ?? 0) - 1.5) < 1e-9)
        ledger.forget([a, c])
        #expect(ledger.drivers.keys.map(\.rawValue) == ["b"])
        // A flood of drivers seen at one tick leaves no entries; seen at two, they are given back
        // once forgotten, memory included.
        let flood = try (0..<20_000).map { try DriverID("flood-\($0)") }
        ledger.worked(flood, seconds: 10)
        #expect(ledger.drivers.count == 1)
        ledger.worked(flood, seconds: 10)
        #expect(ledger.drivers.count == 20_001)
        ledger.forget(flood)
        #expect(ledger.drivers.count == 1)
        #expect(ledger.drivers.capacity < 2_048)
    }

    @Test("over HTTP: offers, trips and time at work are counted by the cohort in each driver's token")
    func byCohort() async throws {
        var configuration = ServerConfiguration()
        configuration.driverCohorts = ["franchise-ft", "independent-ft"]
        let clock = ManualClock(start: testEpoch)
        let (application, parts) = makeTestService(configuration: configuration, clock: clock)
        try await application.test(.router) { client in
            let location = #"{"lat": 37.5665, "lng": 126.978}"#
            // Two drivers at the same spot: equally good; the tie goes by ID, to "a-franchise".
            for (id, cohort) in [("a-franchise", "franchise-ft"), ("b-independent", "independent-ft")] {
                let put = try await client.send(
                    .put,
                    "/v1/drivers/\(id)/location",
                    json: location,
                    caller: .driverOf(id, cohort: cohort)
                )
                #expect(put.status == .noContent)
            }
            // A third without a cohort, far away: no pair.
            try await client.send(
                .put,
                "/v1/drivers/c-none/location",
                json: #"{"lat": 37.5865, "lng": 126.978}"#,
                caller: .driver("c-none")
            )
            let ride = try await client.send(.post, "/v1/rides", json: rideBody).json(RideJSON.self).id
            for action in ["accept", "arrive", "start", "complete"] {
                let answer = try await client.send(
                    .post,
                    "/v1/rides/\(ride)/\(action)",
                    json: #"{"driverId": "a-franchise"}"#,
                    caller: .driverOf("a-franchise", cohort: "franchise-ft")
                )
                #expect(answer.status == .ok)
            }
            // (The ticker service may have ticked at start too: the count starts from the last tick.)
            parts.fairness.tick(dispatcher: parts.dispatcher)
            clock.advance(by: 20)
            parts.fairness.tick(dispatcher: parts.dispatcher)
            let metrics = try await parts.metricsText()
            // (Labels of this test's own: the metrics registry is shared by every test.)
            for line in [
                #"dispatch_cohort_offers_total{cohort="franchise-ft"} 1"#,
                #"dispatch_cohort_trips_total{cohort="franchise-ft"} 1"#,
                #"dispatch_fairness_pairs_total{cohort="franchise-ft",outcome="offered"} 1"#,
                #"dispatch_fairness_pairs_total{cohort="independent-ft",outcome="passed_over"} 1"#,
                // Twenty seconds at work each, counted at the second tick.
                #"dispatch_cohort_work_seconds_total{cohort="franchise-ft"} 20"#,
                #"dispatch_cohort_work_seconds_total{cohort="independent-ft"} 20"#,
                #"dispatch_cohort_drivers_working{cohort="independent-ft"} 1.0"#,
            ] {
                #expect(metrics.contains(line), "\(line)")
            }
            #expect(metrics.contains(#"dispatch_cohort_offers_total{cohort="independent-ft"} 0"#))
            #expect(!metrics.contains(#"dispatch_fairness_pairs_total{cohort="franchise-ft",outcome="passed_over"} 1"#))
            // Three drivers at work, all followed; the far one (no cohort) had no offer.
            #expect(parts.fairness.state.drivers == 3)
        }
    }

    @Test("a token's cohort must be a short label; DRIVER_COHORTS is checked at start")
    func labels() async throws {
        #expect(Caller.isValidCohort("franchise-blue_2"))
        #expect(!Caller.isValidCohort("Franchise"))
        #expect(!Caller.isValidCohort(""))
        #expect(!Caller.isValidCohort(String(repeating: "a", count: 33)))
        try await makeTestApplication().test(.router) { client in
            let bad = try await client.send(
                .put,
                "/v1/drivers/d1/location",
                json: #"{"lat": 37.5665, "lng": 126.978}"#,
                caller: .driverOf("d1", cohort: "Not A Label")
            )
            #expect(bad.status == .unauthorized)
            #expect(bad.errorCode == "invalid_token")
        }
        let parsed = try ServerConfiguration(
            arguments: ["dispatch-server"],
            environment: ["DRIVER_COHORTS": "franchise, independent", "AUTH": "disabled"]
        )
        #expect(parsed.driverCohorts == ["franchise", "independent"])
        for bad in ["Franchise", "a,a", "none", "other", (0..<17).map { "c\($0)" }.joined(separator: ",")] {
            #expect(throws: ConfigurationError.self) {
                try ServerConfiguration(
                    arguments: ["dispatch-server"],
                    environment: ["DRIVER_COHORTS": bad, "AUTH": "disabled"]
                )
            }
        }
        #expect(
            try TokenCommand.parse(["--sub", "d1", "--role", "driver", "--cohort", "franchise"]).cohort == "franchise"
        )
        #expect(throws: ConfigurationError.self) {
            try TokenCommand.parse(["--sub", "d1", "--role", "driver", "--cohort", "No"])
        }
    }
}
