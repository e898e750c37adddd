import Foundation
import Geo
import Testing

@testable import DispatchCore

/// A pickup at City Hall (node 0) and drivers around it whose roads disagree with the straight line:
/// - A, 300 m north: the only road from A goes round by node 3 (2 km east): 600 s;
/// - B, 800 m south: a direct road, 60 s;
/// - C, 500 m west: a one-way street leads from the pickup to C, none back: C cannot come;
/// - D, 2 km west: no road node within the router's 300 m, so a straight line at the city speed.
struct Harbour {
    let a = cityHall.destination(bearing: .north, distance: 300)
    let b = cityHall.destination(bearing: .south, distance: 800)
    let east = cityHall.destination(bearing: .east, distance: 2_000)
    let c = cityHall.destination(bearing: .west, distance: 500)
    let d = cityHall.destination(bearing: .west, distance: 2_000)

    func graph() throws -> RoadGraph {
        try RoadGraph(
            nodes: [cityHall, a, b, east, c],
            edges: [
                .init(from: 1, to: 3, milliseconds: 300_000), .init(from: 3, to: 0, milliseconds: 300_000),
                .init(from: 0, to: 1, milliseconds: 30_000),
                .init(from: 2, to: 0, milliseconds: 60_000), .init(from: 0, to: 2, milliseconds: 60_000),
                .init(from: 0, to: 4, milliseconds: 40_000),
            ]
        )
    }

    func script(ranking: Ranking, matching: MatchingMode = .greedy) throws -> DispatchScript {
        var script = DispatchScript()
        var configuration = DispatchConfiguration()
        configuration.ranking = ranking
        configuration.matching = matching
        script.state = DispatchState(configuration: configuration, roads: try graph())
        for (id, place) in [("A", a), ("B", b), ("C", c), ("D", d)] { script.driver(id, at: place) }
        return script
    }
}

@Suite("Ranking candidates by road ETA")
struct RoadRankingTests {
    @Test("by distance the nearest in a straight line is offered; by ETA the fastest by road")
    func fastestByRoad() throws {
        let harbour = Harbour()
        var byDistance = try harbour.script(ranking: .distance)
        let near = try byDistance.request("rider")
        #expect(near.offer?.driverID == driverID("A"))
        #expect(near.offer?.explanation.ranking == .distance)
        // By distance with a graph, every candidate is kept, nearest first, and timed by road for the
        // record (C, whom no road brings, and D, off the roads, in a straight line).
        let record = try #require(near.offer?.explanation)
        #expect(record.considered.map(\.driverID.rawValue) == ["A", "C", "B", "D"])
        #expect(record.considered.map(\.eta) == [.seconds(600), .seconds(72), .seconds(60), .seconds(288)])
        #expect(record.eta == .seconds(600))

        var byRoad = try harbour.script(ranking: .eta)
        let ride = try byRoad.request("rider")
        let explanation = try #require(ride.offer?.explanation)
        #expect(ride.offer?.driverID == driverID("B"))
        #expect(explanation.ranking == .eta)
        #expect(explanation.rank == 1)
        #expect(explanation.eta == .seconds(60))
        // Fastest first; C, whom no road brings to the pickup, is not a candidate; D, off the roads,
        // is timed in a straight line at the city speed (2 km at 25 km/h: 288 s).
        #expect(explanation.considered.map(\.driverID.rawValue) == ["B", "D", "A"])
        #expect(explanation.considered.map(\.eta) == [.seconds(60), .seconds(288), .seconds(600)])
        #expect(explanation.candidates == 3)
        // The accepted ride keeps the road ETA (the pickup watchdog runs from it).
        let accepted = try byRoad.act(.accept, ride.id, by: "B")
        #expect(accepted.eta == .seconds(60))
    }

    @Test("a driver declining by ETA passes the ride to the next fastest, not the next nearest")
    func nextFastest() throws {
        var script = try Harbour().script(ranking: .eta)
        let ride = try script.request("rider")
        #expect(try script.act(.decline, ride.id, by: "B").offer?.driverID == driverID("D"))
    }

    @Test("beyond the longest pickup ETA a driver is not a candidate")
    func maximumPickupETA() throws {
        let harbour = Harbour()
        var script = try harbour.script(ranking: .eta)
        var configuration = script.state.configuration
        configuration.maximumPickupETA = .seconds(100)
        script.state = DispatchState(configuration: configuration, roads: try harbour.graph())
        for (id, place) in [("A", harbour.a), ("B", harbour.b), ("D", harbour.d)] { script.driver(id, at: place) }
        let ride = try script.request("rider")
        // A (600 s by road) is out; D is timed in a straight line, off the roads, and stays.
        #expect(ride.offer?.explanation.considered.map(\.driverID.rawValue) == ["B", "D"])
    }

    @Test("without a road graph, ranking by ETA ranks by distance, and says so")
    func noGraph() throws {
        var script = DispatchScript { $0.ranking = .eta }
        let harbour = Harbour()
        script.driver("A", at: harbour.a)
        script.driver("B", at: harbour.b)
        let ride = try script.request("rider")
        #expect(ride.offer?.driverID == driverID("A"))
        #expect(ride.offer?.explanation.ranking == .distance)
    }

    @Test("batch matching minimises the total cost it is given, not the total distance")
    func batchMinimisesCost() throws {
        func candidate(_ id: String, meters: Double, seconds: Double) throws -> Matcher.Candidate {
            Matcher.Candidate(
                key: try DriverID(id),
                coordinate: cityHall,
                distance: Meters(meters),
                eta: .seconds(seconds),
                cost: seconds
            )
        }
        // By distance, ride 0 would take x (100 m) and ride 1 y (200 m). By time, x is across the water
        // from ride 0 (900 s) and close to ride 1 (60 s).
        let rides = [
            [try candidate("x", meters: 100, seconds: 900), try candidate("y", meters: 150, seconds: 120)],
            [try candidate("x", meters: 300, seconds: 60), try candidate("y", meters: 200, seconds: 500)],
        ]
        let choices = Matcher.batch(rides)
        #expect(choices[0].map { rides[0][$0].key.rawValue } == "y")
        #expect(choices[1].map { rides[1][$0].key.rawValue } == "x")
    }
}
