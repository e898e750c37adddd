import DispatchTestSupport
import Foundation
import HeapModule
import Testing

@testable import Geo

/// Plain Dijkstra from one node to all, by scanning for the nearest unsettled node: O(n²), obviously
/// right, and nothing shared with `RoadRouter` but the graph's edges.
func oracleTimes(_ graph: RoadGraph, from source: Int) -> [UInt64?] {
    var time = [UInt64?](repeating: nil, count: graph.nodeCount)
    var settled = [Bool](repeating: false, count: graph.nodeCount)
    time[source] = 0
    while let next = (0..<graph.nodeCount).filter({ !settled[$0] && time[$0] != nil }).min(by: { time[$0]! < time[$1]! }
    ) {
        settled[next] = true
        for edge in graph.edges(from: RoadGraph.Node(next)) {
            let candidate = time[next]! + UInt64(edge.milliseconds)
            if time[Int(edge.to)].map({ candidate < $0 }) ?? true { time[Int(edge.to)] = candidate }
        }
    }
    return time
}

/// Dijkstra forward from one node to all with swift-collections' heap: for graphs too large for the
/// O(n²) oracle, still sharing nothing with `RoadRouter` (which searches backwards, with its own heap).
func heapOracleTimes(_ graph: RoadGraph, from source: Int) -> [UInt64?] {
    struct Entry: Comparable {
        let time: UInt64
        let node: Int
        static func < (lhs: Entry, rhs: Entry) -> Bool { (lhs.time, lhs.node) < (rhs.time, rhs.node) }
    }
    var time = [UInt64?](repeating: nil, count: graph.nodeCount)
    var heap = Heap<Entry>([Entry(time: 0, node: source)])
    time[source] = 0
    while let entry = heap.popMin() {
        guard entry.time == time[entry.node] else { continue }
        for edge in graph.edges(from: RoadGraph.Node(entry.node)) {
            let candidate = entry.time + UInt64(edge.milliseconds)
            if time[Int(edge.to)].map({ candidate < $0 }) ?? true {
                time[Int(edge.to)] = candidate
                heap.insert(Entry(time: candidate, node: Int(edge.to)))
            }
        }
    }
    return time
}

/// The nearest node by brute force.
func oracleSnap(_ graph: RoadGraph, _ place: Coordinate) -> (node: Int, distance: Meters) {
    let distances = graph.coordinates.map { place.distance(to: $0) }
    let node = distances.indices.min { distances[$0] < distances[$1] }!
    return (node, distances[node])
}

/// The bytes of a graph's file, as `scripts/osm-to-road-graph` writes them (roads/README.md).
func graphFile(nodes: [(Int32, Int32)], rows: [[(to: UInt32, ms: UInt32)]]) -> Data {
    var data = Data("DRGRAPH1".utf8)
    func put(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    let edges = rows.flatMap { $0 }
    put(UInt32(nodes.count))
    put(UInt32(edges.count))
    for node in nodes { put(UInt32(bitPattern: node.0)) }
    for node in nodes { put(UInt32(bitPattern: node.1)) }
    var start: UInt32 = 0
    for row in rows {
        put(start)
        start += UInt32(row.count)
    }
    put(start)
    for edge in edges { put(edge.to) }
    for edge in edges { put(edge.ms) }
    return data
}

let monteCarlo = try! Coordinate(latitude: 43.7396, longitude: 7.4276)

@Suite("Road graph and road ETAs")
struct RoadRouterTests {
    /// A random city: nodes scattered over ~2 km, each with a few one-way and two-way streets.
    func randomGraph(nodes: Int, using rng: inout SeededGenerator) throws -> RoadGraph {
        let coordinates = (0..<nodes).map { _ in
            monteCarlo.destination(
                bearing: Bearing(degrees: Double.random(in: 0..<360, using: &rng)),
                distance: Meters(Double.random(in: 0...1_000, using: &rng))
            )
        }
        var edges: [RoadGraph.Edge] = []
        for from in 0..<nodes {
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let to = Int.random(in: 0..<nodes, using: &rng)
                let ms = UInt32.random(in: 1...60_000, using: &rng)
                edges.append(.init(from: from, to: to, milliseconds: ms))
                if Bool.random(using: &rng) { edges.append(.init(from: to, to: from, milliseconds: ms)) }
            }
        }
        return try RoadGraph(nodes: coordinates, edges: edges)
    }

    @Test("one search backwards gives every source's exact time, as plain Dijkstra from each does", arguments: 0..<8)
    func matchesOracle(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let graph = try randomGraph(nodes: 150, using: &rng)
        var router = RoadRouter(graph: graph, snapRadius: 5_000, accessSpeed: 5)
        let limit = Duration.seconds(Int.random(in: 60...600, using: &rng))
        var oracle: [Int: [UInt64?]] = [:]
        for _ in 0..<10 {
            let target = graph.coordinates[Int.random(in: 0..<graph.nodeCount, using: &rng)]
                .destination(bearing: .east, distance: Meters(Double.random(in: 0...50, using: &rng)))
            let sources = (0..<20).map { _ in
                graph.coordinates[Int.random(in: 0..<graph.nodeCount, using: &rng)]
                    .destination(bearing: .north, distance: Meters(Double.random(in: 0...50, using: &rng)))
            }
            let answers = router.travelTimes(from: sources, to: target, limit: limit)
            let end = oracleSnap(graph, target)
            for (source, answer) in zip(sources, answers) {
                let start = oracleSnap(graph, source)
                if oracle[start.node] == nil { oracle[start.node] = oracleTimes(graph, from: start.node) }
                let expected = oracle[start.node]?[end.node].map {
                    $0 + UInt64((start.distance.value / 5 * 1000).rounded())
                        + UInt64((end.distance.value / 5 * 1000).rounded())
                }
                let withinLimit = expected.flatMap { $0 <= UInt64(limit.components.seconds) * 1000 ? $0 : nil }
                #expect(answer == withinLimit.map { .milliseconds(Int64($0)) })
            }
        }
    }

    @Test("one-way streets are driven one way only; places off the roads have no road time")
    func oneWayAndOffRoad() throws {
        let a = monteCarlo
        let b = a.destination(bearing: .east, distance: 500)
        let c = a.destination(bearing: .south, distance: 500)
        // a -> b one way (60 s); b <-> c both ways (30 s each).
        let graph = try RoadGraph(
            nodes: [a, b, c],
            edges: [
                .init(from: 0, to: 1, milliseconds: 60_000), .init(from: 1, to: 2, milliseconds: 30_000),
                .init(from: 2, to: 1, milliseconds: 30_000),
            ]
        )
        var router = RoadRouter(graph: graph, snapRadius: 100)
        let far = a.destination(bearing: .north, distance: 5_000)
        #expect(
            router.travelTimes(from: [a, c, b, far], to: b, limit: .seconds(3_600)) == [
                .seconds(60), .seconds(30), .zero, nil,
            ]
        )
        // Back against the one-way street: a is not reachable at all.
        #expect(router.travelTimes(from: [b, c], to: a, limit: .seconds(3_600)) == [nil, nil])
        // Within a limit: c reaches b in 30 s, a does not in 45 s.
        #expect(router.travelTimes(from: [a, c], to: b, limit: .seconds(45)) == [nil, .seconds(30)])
        #expect(router.travelTimes(from: [a], to: far, limit: .seconds(3_600)) == [nil])
    }

    @Test("the search stops once every source is reached, before the rest of the city")
    func stopsEarly() throws {
        // A line of 1,000 nodes, 10 s apart both ways; the source is next to the target.
        let nodes = (0..<1_000).map { monteCarlo.destination(bearing: .east, distance: Meters(Double($0) * 50)) }
        let edges = (0..<999).flatMap {
            [
                RoadGraph.Edge(from: $0, to: $0 + 1, milliseconds: 10_000),
                .init(from: $0 + 1, to: $0, milliseconds: 10_000),
            ]
        }
        var router = RoadRouter(graph: try RoadGraph(nodes: nodes, edges: edges), snapRadius: 10)
        #expect(router.travelTimes(from: [nodes[501]], to: nodes[500], limit: .seconds(100_000)) == [.seconds(10)])
        #expect(router.lastSettled <= 3)
        #expect(router.travelTimes(from: [nodes[0]], to: nodes[999], limit: .seconds(100_000)) == [.seconds(9_990)])
        #expect(router.lastSettled == 1_000)
    }

    @Test("a graph file reads back as written; a damaged one is refused with a reason")
    func fileFormat() throws {
        let nodes: [(Int32, Int32)] = [(437_396_000, 74_276_000), (437_400_000, 74_290_000)]
        let file = graphFile(nodes: nodes, rows: [[(1, 1_500)], [(0, 2_500)]])
        let graph = try RoadGraph(fileData: file)
        #expect(graph.nodeCount == 2)
        #expect(graph.edgeCount == 2)
        #expect(graph.coordinates[1] == (try Coordinate(latitude: 43.74, longitude: 7.429)))
        #expect(graph.edges(from: 0).map(\.to) == [1])
        #expect(graph.edges(from: 1).map(\.milliseconds) == [2_500])

        var badMagic = file
        badMagic[0] = UInt8(ascii: "X")
        #expect(throws: RoadGraphError.self) { try RoadGraph(fileData: badMagic) }
        #expect(throws: RoadGraphError.self) { try RoadGraph(fileData: file.dropLast(1)) }
        // An edge to node 7 of 2.
        #expect(throws: RoadGraphError.self) {
            try RoadGraph(fileData: graphFile(nodes: nodes, rows: [[(7, 1)], []]))
        }
        // A latitude of 100 degrees.
        #expect(throws: RoadGraphError.self) {
            try RoadGraph(fileData: graphFile(nodes: [(1_000_000_000, 0)], rows: [[]]))
        }
    }

    @Test("on the shipped city, 20 candidates' road times equal Dijkstra's, within the limit or not")
    func shippedCityMatchesOracle() throws {
        let graph = try RoadGraph(contentsOf: Self.shippedGraph)
        var router = RoadRouter(graph: graph)
        var rng = SeededGenerator(seed: 15)
        for _ in 0..<4 {
            let target = Int.random(in: 0..<graph.nodeCount, using: &rng)
            let sources = (0..<20).map { _ in Int.random(in: 0..<graph.nodeCount, using: &rng) }
            let limit = Duration.seconds(600)
            let answers = router.travelTimes(
                from: sources.map { graph.coordinates[$0] },
                to: graph.coordinates[target],
                limit: limit
            )
            for (source, answer) in zip(sources, answers) {
                // At a node, a place is 0 m from the roads: the time is the graph's alone.
                let expected = heapOracleTimes(graph, from: source)[target].flatMap { $0 <= 600_000 ? $0 : nil }
                #expect(answer == expected.map { .milliseconds(Int64($0)) }, "\(source) -> \(target)")
            }
        }
    }

    static let shippedGraph = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("roads/monaco.graph")

    @Test("the shipped Monaco graph loads, and its roads connect every node both ways")
    func shippedCity() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("roads/monaco.graph")
        let graph = try RoadGraph(contentsOf: url)
        #expect(graph.nodeCount > 10_000)
        var router = RoadRouter(graph: graph, snapRadius: 50)
        // Strongly connected: from node 0 every node is reached, and node 0 from every node.
        let everyone = Array(graph.coordinates)
        let toZero = router.travelTimes(from: everyone, to: graph.coordinates[0], limit: .seconds(3_600))
        #expect(toZero.allSatisfy { $0 != nil })
        var reached: Set<Int> = [0]
        var frontier = [0]
        while let node = frontier.popLast() {
            for edge in graph.edges(from: RoadGraph.Node(node)) where reached.insert(Int(edge.to)).inserted {
                frontier.append(Int(edge.to))
            }
        }
        #expect(reached.count == graph.nodeCount)
    }
}
