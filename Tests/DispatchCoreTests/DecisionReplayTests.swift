import DispatchTestSupport
import Foundation
import Geo
import Testing

@testable import DispatchCore

@Suite("Replaying recorded decisions")
struct DecisionReplayTests {
    /// A 10 × 10 grid of roads, 250 m apart, around City Hall, each street timed at random and a
    /// quarter of them one-way: ranking by ETA then disagrees with the straight line.
    static func grid(_ rng: inout SeededGenerator) throws -> (RoadGraph, [Coordinate]) {
        var nodes: [Coordinate] = []
        for row in 0..<10 {
            for column in 0..<10 {
                let north = cityHall.destination(bearing: .north, distance: Meters(Double(row - 5) * 250))
                nodes.append(north.destination(bearing: .east, distance: Meters(Double(column - 5) * 250)))
            }
        }
        var edges: [RoadGraph.Edge] = []
        for row in 0..<10 {
            for column in 0..<10 {
                let node = row * 10 + column
                for next in [column < 9 ? node + 1 : nil, row < 9 ? node + 10 : nil].compactMap({ $0 }) {
                    let milliseconds = UInt32.random(in: 15_000...90_000, using: &rng)
                    edges.append(.init(from: node, to: next, milliseconds: milliseconds))
                    if Int.random(in: 0..<4, using: &rng) > 0 {
                        edges.append(.init(from: next, to: node, milliseconds: milliseconds))
                    }
                }
            }
        }
        return (try RoadGraph(nodes: nodes, edges: edges), nodes)
    }

    /// Runs random riders and drivers who accept, decline or ignore offers, and returns the record of
    /// every offer made.
    static func run(matching: MatchingMode, ranking: Ranking, seed: UInt64) throws -> [DecisionReplay.Record] {
        var rng = SeededGenerator(seed: seed)
        var script = DispatchScript()
        var configuration = DispatchConfiguration()
        configuration.matching = matching
        configuration.ranking = ranking
        configuration.offerTimeout = .seconds(15)
        configuration.searchTimeout = .seconds(120)
        // Long enough that rides gather and compete in one batch.
        configuration.batchWindow = .seconds(5)
        let (graph, places) = try grid(&rng)
        script.state = DispatchState(configuration: configuration, roads: ranking == .distance ? nil : graph)
        let drivers = (0..<14).map { "d\($0)" }
        // Each driver's habit: how often it accepts, declines or lets an offer lapse.
        let habits = drivers.map { _ in Double.random(in: 0.2...1, using: &rng) }
        for driver in drivers { script.driver(driver, at: places.randomElement(using: &rng) ?? cityHall) }
        for _ in 0..<700 {
            let roll = Int.random(in: 0..<100, using: &rng)
            if roll < 12 {
                _ = try? script.request(
                    "r\(Int.random(in: 0..<40, using: &rng))",
                    at: places.randomElement(using: &rng) ?? cityHall
                )
            } else if roll < 60 {
                for (index, driver) in drivers.enumerated() {
                    guard let ride = script.state.drivers.driver(driverID(driver))?.rideID,
                        let held = script.ride(ride)
                    else { continue }
                    let action: DriverAction? =
                        switch held.status {
                        case .offered:
                            Double.random(in: 0..<1, using: &rng) < habits[index]
                                ? .accept : (Bool.random(using: &rng) ? .decline : nil)
                        case .accepted: .arrive
                        case .arrived: .start
                        case .inProgress: .complete
                        default: nil
                        }
                    if let action, Bool.random(using: &rng) { _ = try? script.act(action, ride, by: driver) }
                }
            } else {
                for driver in drivers where Int.random(in: 0..<4, using: &rng) == 0 {
                    script.driver(driver, at: places.randomElement(using: &rng) ?? cityHall)
                }
            }
            script.advance(1)
        }
        var requestedAt: [RideID: Date] = [:]
        var records: [DecisionReplay.Record] = []
        for event in script.events {
            if event.kind == .rideRequested { requestedAt[event.rideID] = event.at }
            if event.kind == .rideOffered, let offer = event.offer, let at = requestedAt[event.rideID] {
                records.append(DecisionReplay.Record(offer: offer, requestedAt: at))
            }
        }
        return records
    }

    @Test(
        "every decision of a random run replays to the same scores, order and choice",
        arguments: [MatchingMode.greedy, .batch],
        Ranking.allCases
    )
    func randomRunReplays(matching: MatchingMode, ranking: Ranking) throws {
        let records = try Self.run(matching: matching, ranking: ranking, seed: 31)
        #expect(records.count > 60)
        // Offers to drivers with a history, and to several candidates: the replay had work to do.
        #expect(records.contains { $0.candidates.count > 3 })
        if ranking == .etaAcceptance {
            #expect(records.contains { $0.candidates.contains { ($0.history?.declined ?? 0) > 0.5 } })
        }
        let findings = DecisionReplay.replay(records.shuffled())
        #expect(findings.count == records.count)
        for finding in findings {
            switch finding.verdict {
            case .reproduced: break
            case .rankingReproduced(let note):
                #expect(matching == .batch, "\(finding.rideID): \(note)")
            case .differs(let problems):
                Issue.record("\(finding.rideID) at \(finding.offeredAt): \(problems)")
            case .unknownPolicy(let reason):
                Issue.record("\(finding.rideID): \(reason)")
            }
        }
        if matching == .batch {
            // Some batches offered every ride of a group: their assignment was re-run.
            #expect(records.contains { $0.group > 1 })
            #expect(findings.filter { $0.verdict == .reproduced }.count > 10)
        }
    }

    @Test("a record changed after the fact does not replay")
    func tamperedRecords() throws {
        let records = try Self.run(matching: .greedy, ranking: .etaAcceptance, seed: 5)
        let record = try #require(records.first { $0.candidates.count >= 3 })
        #expect(DecisionReplay.replay([record]).first?.verdict == .reproduced)

        func verdict(_ change: (inout DecisionReplay.Record) -> Void) -> DecisionReplay.Verdict? {
            var changed = record
            change(&changed)
            return DecisionReplay.replay([changed]).first?.verdict
        }
        func differs(_ verdict: DecisionReplay.Verdict?) -> Bool {
            if case .differs = verdict { return true }
            return false
        }
        // The chosen driver's history rewritten: its score no longer follows.
        #expect(differs(verdict { $0.candidates[0].history?.declined += 3 }))
        // Another driver claimed as chosen.
        #expect(differs(verdict { $0.driverID = $0.candidates[1].driverID }))
        // The order changed.
        #expect(differs(verdict { $0.candidates.swapAt(0, 2) }))
        // An ETA changed without its score.
        #expect(differs(verdict { $0.candidates[1].etaSeconds += 30 }))
        // Settings that are not the recorded version's, or a version this build does not know.
        if case .unknownPolicy = verdict({ $0.acceptanceModel?.weight = 3 }) {} else { Issue.record("weight") }
        if case .unknownPolicy = verdict({ $0.policy = "eta-acceptance/9" }) {} else { Issue.record("version") }
    }

    @Test("a batch assignment is re-run over its group, and a swapped assignment is caught")
    func batchGroups() throws {
        let records = try Self.run(matching: .batch, ranking: .eta, seed: 11)
        let byTime = Dictionary(grouping: records, by: \.offeredAt)
        // A complete group of two rides that could each have had the other's driver.
        func swappable(_ batch: [DecisionReplay.Record]) -> Bool {
            batch.count == 2 && batch.allSatisfy { $0.group == 2 }
                && batch[0].candidates.contains { $0.driverID == batch[1].driverID }
                && batch[1].candidates.contains { $0.driverID == batch[0].driverID }
        }
        let group = try #require(byTime.values.first(where: swappable))
        #expect(DecisionReplay.replay(group).allSatisfy { $0.verdict == .reproduced })
        // Each ride given the other's driver, consistently with its own list: not the assignment.
        var swapped = group
        for (index, other) in [(0, 1), (1, 0)] {
            swapped[index].driverID = group[other].driverID
            swapped[index].rank =
                (group[index].candidates.firstIndex { $0.driverID == group[other].driverID } ?? 0) + 1
        }
        #expect(
            DecisionReplay.replay(swapped).allSatisfy { if case .differs = $0.verdict { true } else { false } }
        )
        // Without one of its rides the group cannot be re-run: only the ranking is checked.
        let partial = DecisionReplay.replay(Array(group.dropFirst()))
        #expect(partial.allSatisfy { if case .rankingReproduced = $0.verdict { true } else { false } })
    }
}
