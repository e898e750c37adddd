import Foundation
import Geo
import LoadTestKit
import Testing

@Suite("Fairness figures of a load test")
struct FairnessSummaryTests {
    @Test("drivers get their cohorts by share, from a generator of their own")
    func cohortsByShare() {
        var scenario = FleetTests.scenario(drivers: 2_000)
        let plain = Fleet(scenario: scenario, city: CityMap(scenario: scenario))
        #expect(plain.drivers.allSatisfy { $0.cohort == nil })
        scenario.cohorts = [.init(name: "franchise", share: 0.3), .init(name: "independent", share: 0.5)]
        let fleet = Fleet(scenario: scenario, city: CityMap(scenario: scenario))
        let counts = Dictionary(grouping: fleet.drivers, by: { $0.cohort ?? "none" }).mapValues(\.count)
        #expect(abs((counts["franchise"] ?? 0) - 600) < 80)
        #expect(abs((counts["independent"] ?? 0) - 1_000) < 90)
        #expect(abs((counts["none"] ?? 0) - 400) < 70)
        // Positions and habits as without cohorts.
        #expect(fleet.drivers.map(\.position) == plain.drivers.map(\.position))
        #expect(fleet.drivers.map(\.acceptProbability) == plain.drivers.map(\.acceptProbability))
    }

    @Test("offers taken up and trips completed are counted per driver, and summed per driver-hour by cohort")
    func perDriverHour() {
        var scenario = FleetTests.scenario(drivers: 4, accept: 1)
        scenario.cohorts = [.init(name: "franchise", share: 0.5)]
        var fleet = Fleet(scenario: scenario, city: CityMap(scenario: scenario))
        let franchise = fleet.drivers.filter { $0.cohort == "franchise" }.map(\.id)
        let others = fleet.drivers.filter { $0.cohort == nil }.map(\.id)
        try? #require(!franchise.isEmpty && !others.isEmpty)
        // One franchise driver is offered a ride and completes it; a repeat sighting is not a new offer.
        let driver = franchise[0]
        let first = fleet.offered(FleetTests.offer("r1"), to: driver, now: 1)
        let repeated = fleet.offered(FleetTests.offer("r1"), to: driver, now: 1.5)
        #expect(first && !repeated)
        // The runner's part: send each call the fleet asks for, and answer it.
        var now = 1.0
        while now < 600, fleet.driver(driver)?.trips == 0 {
            now += 0.25
            for case .call(let call, let id, let ride) in fleet.tick(now: now) {
                fleet.finished(call, rideID: ride, by: id, succeeded: true, now: now)
            }
        }
        #expect(fleet.driver(driver)?.trips == 1)
        let summary = FairnessSummary(fleet: fleet, hours: 0.5)
        let byName = Dictionary(uniqueKeysWithValues: summary.cohorts.map { ($0.name, $0) })
        let counted = fleet.driver(driver)
        #expect(counted?.offers == 1)
        #expect(byName["franchise"]?.drivers == franchise.count)
        #expect(byName["none"]?.drivers == others.count)
        // One offer among the franchise's drivers over half an hour.
        #expect(byName["franchise"]?.offersPerDriverHour == 2.0 / Double(franchise.count))
        #expect(byName["none"]?.offersPerDriverHour == 0)
        #expect(byName["franchise"]?.tripsPerDriverHour == 2.0 / Double(franchise.count))
        #expect(summary.tripGini ?? 0 > 0.5)
        #expect(summary.line.contains("franchise"))
    }

    @Test("the Gini coefficient of offers across drivers")
    func gini() {
        #expect(FairnessSummary.gini([3, 3, 3]) == 0)
        #expect(abs((FairnessSummary.gini([0, 0, 0, 8]) ?? 0) - 0.75) < 1e-12)
        #expect(FairnessSummary.gini([1]) == nil)
    }

    @Test("a scenario's cohorts must have shares adding up to at most one and label-like names")
    func validation() throws {
        var scenario = FleetTests.scenario(drivers: 10)
        scenario.cohorts = [.init(name: "a", share: 0.7), .init(name: "b", share: 0.4)]
        #expect(throws: ScenarioError.self) { try ScenarioLoader.validate(scenario) }
        scenario.cohorts = [.init(name: "Not OK", share: 0.5)]
        #expect(throws: ScenarioError.self) { try ScenarioLoader.validate(scenario) }
        scenario.cohorts = [.init(name: "ok-1", share: 0.5)]
        try ScenarioLoader.validate(scenario)
    }
}
