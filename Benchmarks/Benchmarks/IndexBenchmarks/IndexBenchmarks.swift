import Benchmark
import Fleet
import Foundation
import Geo

/// The state a benchmark measures against, built once in `setup`.
final class IndexFixture: @unchecked Sendable {
    var index: SpatialIndex<Int>
    var positions: [Coordinate] = []
    /// A precomputed stream of moves, read sequentially: random drivers, each ~100 m from where it
    /// stood, the way location reports arrive at the server. Reading it costs no cache misses, so
    /// the measurement is the index's own work.
    var moves: [(driver: Int, to: Coordinate)] = []
    var queryCenters: [Coordinate] = []
    var cursor = 0

    init(size: Int, layout: Layout) {
        // INDEX_CELL_SIZE (metres) overrides the default cell size, to compare settings.
        let cellSize = ProcessInfo.processInfo.environment["INDEX_CELL_SIZE"].flatMap(Double.init)
        index = cellSize.map { SpatialIndex(cellSize: Meters($0)) } ?? SpatialIndex()
        var rng = SplitMix64(seed: 0xD1CE)
        positions.reserveCapacity(size)
        for driver in 0..<size {
            let position = Fleet.randomPoint(layout, using: &rng)
            positions.append(position)
            index.upsert(driver, at: position)
        }
        var current = positions
        moves = (0..<(1 << 20)).map { _ in
            let driver = Int(rng.next() % UInt64(size))
            let to = current[driver].destination(
                bearing: Bearing(degrees: Double.random(in: 0..<360, using: &rng)),
                distance: 100
            )
            current[driver] = to
            return (driver, to)
        }
        queryCenters = (0..<65_536).map { _ in Fleet.randomPoint(layout, using: &rng) }
    }

    @inline(__always)
    func nextCenter() -> Coordinate {
        cursor = (cursor + 1) & (queryCenters.count - 1)
        return queryCenters[cursor]
    }
}

/// The baseline: a linear scan over every driver, keeping the 10 nearest within 3 km.
func bruteForceNearest(
    _ points: [Coordinate],
    to center: Coordinate,
    limit: Int,
    within radius: Meters
) -> [(Int, Meters)] {
    var best: [(Int, Meters)] = []
    for (driver, point) in points.enumerated() {
        let distance = center.distance(to: point)
        guard distance <= radius else { continue }
        if best.count == limit, let last = best.last, last.1 <= distance { continue }
        let insertAt = best.firstIndex { $0.1 > distance } ?? best.count
        best.insert((driver, distance), at: insertAt)
        if best.count > limit { best.removeLast() }
    }
    return best
}

let benchmarks: @Sendable () -> Void = {
    let sizes = [10_000, 100_000, 1_000_000]
    let perOperation = Benchmark.Configuration(
        metrics: [.wallClock, .throughput],
        timeUnits: .nanoseconds,
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 2_000
    )
    for layout in Layout.allCases {
        for size in sizes {
            Benchmark("move ~100 m · \(layout) · \(size)", configuration: perOperation) { benchmark, fixture in
                // Work on a local index (moved out of the fixture, not copied) so each move pays no
                // class-property exclusivity check.
                var index = fixture.index
                fixture.index = SpatialIndex()
                var cursor = fixture.cursor
                for _ in benchmark.scaledIterations {
                    let move = fixture.moves[cursor & (fixture.moves.count - 1)]
                    cursor &+= 1
                    index.upsert(move.driver, at: move.to)
                }
                fixture.cursor = cursor
                fixture.index = index
            } setup: {
                IndexFixture(size: size, layout: layout)
            }

            Benchmark("nearest 10 within 3 km · \(layout) · \(size)", configuration: perOperation) {
                benchmark,
                fixture in
                for _ in benchmark.scaledIterations {
                    blackHole(try? fixture.index.nearest(to: fixture.nextCenter(), limit: 10, within: 3_000))
                }
            } setup: {
                IndexFixture(size: size, layout: layout)
            }
        }
    }
    for size in sizes {
        Benchmark(
            "baseline: brute-force nearest 10 within 3 km · uniform · \(size)",
            configuration: .init(
                metrics: [.wallClock, .throughput],
                timeUnits: .microseconds,
                warmupIterations: 2,
                scalingFactor: .one,
                maxDuration: .seconds(3),
                maxIterations: 1_000
            )
        ) { _, fixture in
            blackHole(bruteForceNearest(fixture.positions, to: fixture.nextCenter(), limit: 10, within: 3_000))
        } setup: {
            IndexFixture(size: size, layout: .uniform)
        }
    }
}
