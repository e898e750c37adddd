import Foundation
import Geo
import Testing

@testable import DispatchCore

@Suite("Ranking by who will accept")
struct AcceptanceRankingTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("an offer history decays by half every half-life, and only forward in time")
    func decay() {
        var history = OfferHistory()
        history.record(.accepted, now: start, halfLife: .seconds(100))
        history.record(.declined, now: start + 100, halfLife: .seconds(100))
        #expect(abs(history.accepted - 0.5) < 1e-9)
        #expect(history.declined == 1)
        let later = history.decayed(to: start + 300, halfLife: .seconds(100))
        #expect(abs(later.accepted - 0.125) < 1e-9)
        #expect(abs(later.declined - 0.25) < 1e-9)
        // An earlier time changes nothing.
        #expect(history.decayed(to: start, halfLife: .seconds(100)).accepted == history.accepted)
    }

    @Test(
        "the estimate starts at the prior and follows the driver's answers; the score adds the expected cost of misses"
    )
    func model() {
        let model = AcceptanceModel()
        #expect(model.acceptance(OfferHistory(), now: start) == 0.8)
        var decliner = OfferHistory()
        for second in 0..<8 { decliner.record(.declined, now: start + Double(second), halfLife: model.halfLife) }
        // (0 + 0.8 × 2) / (8 + 2)
        #expect(abs(model.acceptance(decliner, now: start + 8) - 0.16) < 1e-3)
        #expect(model.lostOnMiss(decliner, now: start + 8, offerTimeout: .seconds(15)) == 5)
        var sleeper = OfferHistory()
        sleeper.record(.expired, now: start, halfLife: model.halfLife)
        #expect(model.lostOnMiss(sleeper, now: start, offerTimeout: .seconds(15)) == 15)
        #expect(model.lostOnMiss(OfferHistory(), now: start, offerTimeout: .seconds(15)) == 10)
        // 60 s away, 1 in 2 to accept, 10 s lost per miss: 60 + 10 × 0.5 / 0.5.
        #expect(model.score(eta: .seconds(60), acceptance: 0.5, lostOnMiss: 10) == 70)
        // Everything declined still leaves a finite score.
        #expect(model.acceptance(decliner, now: start + 8) >= AcceptanceModel.minimumAcceptance)
    }

    /// A nearer driver who lets every offer expire (200 m: 29 s away), and a farther one who accepts
    /// them all (600 m: 86 s). Near: 29 + 15 × (1 − 0.15) / 0.15 ≈ 116; far: 86 + 15 × 0.04 ≈ 87.
    func script(weight: Double) throws -> DispatchScript {
        var script = DispatchScript {
            $0.ranking = .etaAcceptance
            $0.acceptance.weight = weight
        }
        script.driver("near", distance: 200)
        script.driver("far", distance: 600, bearing: .south)
        for second in 0..<10 {
            let at = script.now - 600 + Double(second)
            script.state.drivers.recordOffer(driverID("near"), .expired, now: at, halfLife: .seconds(3_600))
            script.state.drivers.recordOffer(driverID("far"), .accepted, now: at, halfLife: .seconds(3_600))
        }
        return script
    }

    @Test("the driver who will accept is offered first, though farther; with weight 0 the nearer one is")
    func prefersWhoAccepts() throws {
        var script = try self.script(weight: 1)
        let ride = try script.request("rider")
        let explanation = try #require(ride.offer?.explanation)
        #expect(ride.offer?.driverID == driverID("far"))
        #expect(explanation.ranking == .etaAcceptance)
        #expect(explanation.policy == AcceptanceModel().version)
        #expect(explanation.considered.map(\.driverID.rawValue) == ["far", "near"])
        let near = try #require(explanation.considered.first { $0.driverID == driverID("near") })
        let far = try #require(explanation.considered.first { $0.driverID == driverID("far") })
        #expect((near.acceptance ?? 1) < 0.3)
        #expect((far.acceptance ?? 0) > 0.9)
        #expect(near.eta < far.eta)
        #expect(far.score < near.score)

        var etaOnly = try self.script(weight: 0)
        #expect(try etaOnly.request("rider").offer?.driverID == driverID("near"))
    }

    @Test("accepts, declines and expiries are recorded in the driver's history")
    func outcomesRecorded() throws {
        var script = DispatchScript { $0.ranking = .etaAcceptance }
        script.driver("d1", distance: 100)
        let first = try script.request("r1")
        _ = try script.act(.decline, first.id, by: "d1")
        script.driver("d2", distance: 100, bearing: .south)
        let second = try script.request("r2")
        _ = try script.act(.accept, second.id, by: "d2")
        script.driver("d3", distance: 100, bearing: .east)
        _ = try script.request("r3")
        script.advance(script.state.configuration.offerTimeout.timeInterval + 1)
        func history(_ id: String) -> OfferHistory? { script.state.drivers.driver(driverID(id))?.offers }
        #expect(history("d1")?.declined == 1)
        #expect(history("d2")?.accepted == 1)
        #expect((history("d3")?.expired ?? 0) > 0.99)
    }
}
