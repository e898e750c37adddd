import Foundation
import Geo
import Testing

@testable import LoadTestKit

@Suite("The city map on a road graph")
struct CityMapRoadsTests {
    static let monaco = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("roads/monaco.graph")

    @Test("drivers start, and riders are picked up and dropped off, at road nodes inside the region")
    func onRoads() throws {
        let graph = try RoadGraph(contentsOf: Self.monaco)
        let nodes = Set(graph.coordinates)
        // The monaco scenario's own region and hotspots.
        let file = Self.monaco.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("loadtest/scenarios/monaco.json")
        let scenario = try ScenarioLoader.load(file: try Data(contentsOf: file))
        #expect(scenario.roadGraph == "roads/monaco.graph")
        let city = CityMap(scenario: scenario, roads: graph)
        var random = SplitMix64(seed: 3)
        for _ in 0..<500 {
            let start = city.anywhere(&random)
            let pickup = city.pickup(&random)
            let dropoff = city.dropoff(from: pickup, tripMeters: 2_000, &random)
            for place in [start, pickup, dropoff] {
                #expect(nodes.contains(place), "\(place) is not a road node")
                #expect(city.contains(place))
            }
        }
        // Without the graph the same scenario puts places anywhere, most of them off the nodes.
        let plain = CityMap(scenario: scenario)
        let offRoad = (0..<200).map { _ in plain.anywhere(&random) }.filter { !nodes.contains($0) }
        #expect(offRoad.count > 190)
    }
}
