import Foundation

/// A city's roads as a car drives them: nodes at coordinates and directed edges, each with its
/// travel time in milliseconds (`roads/README.md` describes the file and how it is made from
/// OpenStreetMap data).
///
/// Stored as compressed sparse rows both ways: the edges out of each node (to drive) and the edges
/// into it (to search backwards from a pickup, `RoadRouter`). Nodes are also in a `SpatialIndex`, so
/// a place snaps to its nearest node the way drivers are found. Immutable once built; share it.
public struct RoadGraph: Sendable {
    /// A node's number, `0..<nodeCount`.
    public typealias Node = Int32

    public let coordinates: [Coordinate]
    /// `outStart[n]..<outStart[n + 1]` index `outTarget` and `outTime` for node `n`'s edges.
    let outStart: [Int32]
    let outTarget: [Int32]
    let outTime: [UInt32]
    /// The same edges, grouped by their target: `inSource[i]` reaches the node in `inTime[i]` ms.
    let inStart: [Int32]
    let inSource: [Int32]
    let inTime: [UInt32]
    let index: SpatialIndex<Int32>

    public var nodeCount: Int { coordinates.count }
    public var edgeCount: Int { outTarget.count }

    /// One directed edge.
    public struct Edge: Hashable, Sendable {
        public let from: Int
        public let to: Int
        public let milliseconds: UInt32

        public init(from: Int, to: Int, milliseconds: UInt32) {
            self.from = from
            self.to = to
            self.milliseconds = milliseconds
        }
    }

    /// - Throws: `RoadGraphError` for an edge naming a node that does not exist, or more nodes or
    ///   edges than 32-bit numbers hold.
    public init(nodes: [Coordinate], edges: [Edge]) throws(RoadGraphError) {
        guard nodes.count < Int(Int32.max), edges.count < Int(Int32.max) else {
            throw RoadGraphError("a road graph holds fewer than 2^31 nodes and edges")
        }
        for edge in edges where !(0..<nodes.count).contains(edge.from) || !(0..<nodes.count).contains(edge.to) {
            throw RoadGraphError("edge \(edge.from) -> \(edge.to) names a node outside 0..<\(nodes.count)")
        }
        coordinates = nodes
        (outStart, outTarget, outTime) = Self.rows(nodes.count, edges, key: \.from, other: \.to)
        (inStart, inSource, inTime) = Self.rows(nodes.count, edges, key: \.to, other: \.from)
        var index = SpatialIndex<Int32>(cellSize: 150)
        for (node, coordinate) in nodes.enumerated() { index.upsert(Int32(node), at: coordinate) }
        self.index = index
    }

    /// Compressed rows of `edges` grouped by `key`, each row in the order of `other` (a counting sort:
    /// O(nodes + edges)).
    private static func rows(
        _ nodeCount: Int,
        _ edges: [Edge],
        key: KeyPath<Edge, Int>,
        other: KeyPath<Edge, Int>
    ) -> ([Int32], [Int32], [UInt32]) {
        var start = [Int32](repeating: 0, count: nodeCount + 1)
        for edge in edges { start[edge[keyPath: key] + 1] += 1 }
        for node in 0..<nodeCount { start[node + 1] += start[node] }
        var next = start
        var ends = [Int32](repeating: 0, count: edges.count)
        var times = [UInt32](repeating: 0, count: edges.count)
        for edge in edges {
            let slot = Int(next[edge[keyPath: key]])
            next[edge[keyPath: key]] += 1
            ends[slot] = Int32(edge[keyPath: other])
            times[slot] = edge.milliseconds
        }
        return (start, ends, times)
    }

    /// The edges out of `node`, as (target, milliseconds).
    public func edges(from node: Node) -> [(to: Node, milliseconds: UInt32)] {
        (Int(outStart[Int(node)])..<Int(outStart[Int(node) + 1])).map { (outTarget[$0], outTime[$0]) }
    }

    /// The nearest node to `coordinate` within `radius`, and how far it is; nil when none is.
    public func snap(_ coordinate: Coordinate, within radius: Meters) -> (node: Node, distance: Meters)? {
        guard let nearest = try? index.nearest(to: coordinate, limit: 1, within: radius).first else { return nil }
        return (nearest.key, nearest.distance)
    }

    // MARK: The file

    /// The file's first bytes.
    static let magic = Array("DRGRAPH1".utf8)

    /// Reads a graph in the format of `roads/README.md` (what `scripts/osm-to-road-graph` writes).
    /// - Throws: `RoadGraphError` for a file that is not one, truncated, or inconsistent.
    public init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url, options: .mappedIfSafe)
        try self.init(fileData: data)
    }

    /// Reads a graph from the bytes of its file.
    public init(fileData data: Data) throws(RoadGraphError) {
        var reader = LittleEndianReader(data)
        guard reader.bytes(Self.magic.count) == Self.magic else {
            throw RoadGraphError("not a road graph (it does not begin with DRGRAPH1)")
        }
        let nodes = Int(try reader.uint32())
        let edges = Int(try reader.uint32())
        // Each node takes 12 bytes (latitude, longitude, its row's start), each edge 8.
        guard reader.remaining == 12 * nodes + 4 + 8 * edges else {
            throw RoadGraphError(
                "a graph of \(nodes) nodes and \(edges) edges takes \(12 * nodes + 4 + 8 * edges) bytes after its header, "
                    + "this file has \(reader.remaining)"
            )
        }
        let latitudes = try (0..<nodes).map { _ throws(RoadGraphError) in try reader.int32() }
        let longitudes = try (0..<nodes).map { _ throws(RoadGraphError) in try reader.int32() }
        var coordinates: [Coordinate] = []
        coordinates.reserveCapacity(nodes)
        for node in 0..<nodes {
            guard
                let coordinate = try? Coordinate(
                    latitude: Double(latitudes[node]) / 1e7,
                    longitude: Double(longitudes[node]) / 1e7
                )
            else { throw RoadGraphError("node \(node) lies outside the Earth's coordinates") }
            coordinates.append(coordinate)
        }
        let starts = try (0...nodes).map { _ throws(RoadGraphError) in Int(try reader.uint32()) }
        guard starts.first == 0, starts.last == edges, zip(starts, starts.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw RoadGraphError("the edge rows are not in order from 0 to \(edges)")
        }
        let targets = try (0..<edges).map { _ throws(RoadGraphError) in Int(try reader.uint32()) }
        let times = try (0..<edges).map { _ throws(RoadGraphError) in try reader.uint32() }
        var list: [Edge] = []
        list.reserveCapacity(edges)
        for node in 0..<nodes {
            for slot in starts[node]..<starts[node + 1] {
                list.append(Edge(from: node, to: targets[slot], milliseconds: times[slot]))
            }
        }
        try self.init(nodes: coordinates, edges: list)
    }
}

/// A road graph that cannot be read or built.
public struct RoadGraphError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Reads little-endian integers from a file's bytes.
struct LittleEndianReader {
    private let data: Data
    private var offset: Int

    init(_ data: Data) {
        self.data = data
        self.offset = data.startIndex
    }

    var remaining: Int { data.endIndex - offset }

    mutating func bytes(_ count: Int) -> [UInt8]? {
        guard remaining >= count else { return nil }
        defer { offset += count }
        return Array(data[offset..<offset + count])
    }

    mutating func uint32() throws(RoadGraphError) -> UInt32 {
        guard remaining >= 4 else { throw RoadGraphError("the file ends early") }
        defer { offset += 4 }
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[offset + $1]) << (8 * UInt32($1)) }
    }

    mutating func int32() throws(RoadGraphError) -> Int32 {
        Int32(bitPattern: try uint32())
    }
}
