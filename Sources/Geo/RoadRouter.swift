/// Travel times by road to one place from many, with one search backwards from that place: ranking
/// twenty drivers for a pickup costs one Dijkstra that stops once all twenty are reached (or the time
/// limit is), not twenty searches.
///
/// A place joins the graph at its nearest node within `snapRadius`, and the gap is covered at
/// `accessSpeed` (metres per second) at both ends. A place with no node that near has no road time.
///
/// Keeps its working arrays between searches (stamped with a generation, so a search touches only
/// the nodes it reaches): a value type with no locking, like `SpatialIndex`; the owner serialises use.
public struct RoadRouter: Sendable {
    public let graph: RoadGraph
    /// How far a place may lie from its nearest road node.
    public var snapRadius: Meters
    /// How fast the gap between a place and its node is covered, in metres per second.
    public var accessSpeed: Double

    private var best: [UInt32]
    private var stamp: [UInt32]
    private var generation: UInt32 = 0
    private var heap = MinHeap()

    /// How many nodes the last search settled (for benchmarks and tests).
    public private(set) var lastSettled = 0

    /// - Parameters:
    ///   - graph: The roads.
    ///   - snapRadius: How far a place may lie from its nearest node (300 m).
    ///   - accessSpeed: Metres per second between a place and its node (15 km/h).
    public init(graph: RoadGraph, snapRadius: Meters = 300, accessSpeed: Double = 15 / 3.6) {
        self.graph = graph
        self.snapRadius = snapRadius
        self.accessSpeed = accessSpeed
        best = [UInt32](repeating: .max, count: graph.nodeCount)
        stamp = [UInt32](repeating: 0, count: graph.nodeCount)
    }

    /// The time by road from each of `sources` to `target`, in the order given; nil for a source
    /// that is not reached within `limit`, or is off the roads (as is every source when `target` is).
    /// - Complexity: One Dijkstra search backwards from `target`, over at most the nodes within
    ///   `limit` of it, stopping as soon as every source's node is settled.
    public mutating func travelTimes(from sources: [Coordinate], to target: Coordinate, limit: Duration) -> [Duration?]
    {
        var answers = [Duration?](repeating: nil, count: sources.count)
        lastSettled = 0
        guard let end = graph.snap(target, within: snapRadius) else { return answers }
        let limitMilliseconds = Self.milliseconds(limit)
        let endMilliseconds = access(end.distance)
        // Which sources wait on which node, and how far each is from its node.
        var waiting: [RoadGraph.Node: [Int]] = [:]
        var startMilliseconds = [UInt64](repeating: 0, count: sources.count)
        for (slot, source) in sources.enumerated() {
            guard let start = graph.snap(source, within: snapRadius) else { continue }
            startMilliseconds[slot] = access(start.distance)
            waiting[start.node, default: []].append(slot)
        }
        guard !waiting.isEmpty else { return answers }
        nextGeneration()
        relax(end.node, to: 0)
        while let (time, node) = heap.pop() {
            // A stale entry: the node was reached faster since it was pushed.
            guard time == best[Int(node)] else { continue }
            guard UInt64(time) + endMilliseconds <= limitMilliseconds else { break }
            lastSettled += 1
            if let slots = waiting.removeValue(forKey: node) {
                for slot in slots {
                    let total = UInt64(time) + endMilliseconds + startMilliseconds[slot]
                    if total <= limitMilliseconds { answers[slot] = .milliseconds(Int64(total)) }
                }
                if waiting.isEmpty { break }
            }
            let row = Int(graph.inStart[Int(node)])..<Int(graph.inStart[Int(node) + 1])
            for slot in row {
                let (sum, overflow) = time.addingReportingOverflow(graph.inTime[slot])
                if !overflow { relax(graph.inSource[slot], to: sum) }
            }
        }
        heap.removeAll()
        return answers
    }

    private mutating func relax(_ node: RoadGraph.Node, to time: UInt32) {
        let index = Int(node)
        if stamp[index] != generation {
            stamp[index] = generation
            best[index] = .max
        }
        guard time < best[index] else { return }
        best[index] = time
        heap.push(time, node)
    }

    private mutating func nextGeneration() {
        if generation == .max {
            generation = 0
            for index in stamp.indices { stamp[index] = 0 }
        }
        generation += 1
    }

    private func access(_ distance: Meters) -> UInt64 {
        UInt64((distance.value / accessSpeed * 1000).rounded())
    }

    private static func milliseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1000 + UInt64(attoseconds / 1_000_000_000_000_000)
    }
}

/// A binary min-heap of (time, node), for Dijkstra with lazy deletion.
struct MinHeap: Sendable {
    private var items: [(time: UInt32, node: Int32)] = []

    mutating func push(_ time: UInt32, _ node: Int32) {
        items.append((time, node))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].time < items[parent].time else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (UInt32, Int32)? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < items.count else { break }
                let right = left + 1
                let smaller = right < items.count && items[right].time < items[left].time ? right : left
                guard items[smaller].time < items[parent].time else { break }
                items.swapAt(parent, smaller)
                parent = smaller
            }
        }
        return (first.time, first.node)
    }

    mutating func removeAll() {
        items.removeAll(keepingCapacity: true)
    }
}
