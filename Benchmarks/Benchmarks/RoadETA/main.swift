import DispatchCore
import Foundation
import Geo

// Road ETAs on the shipped city (roads/monaco.graph), in process, on one core:
//   eta-20     `RoadRouter.travelTimes` for a pickup at a random road node and its 20 straight-line
//              nearest of 2,000 drivers standing at random road nodes: one backward search.
//   match-eta  a greedy match ranked by road ETA: `DispatchState.requestRide` (candidates, their
//              ETAs, the choice, the offer and its event), then the ride is cancelled (not timed) so
//              the driver is free again;
//   match-distance  the same rides and drivers ranked by straight-line distance: the baseline.
// Prints p50, p99, p99.9 and max per call in microseconds, and the settled nodes per search.
//
//   RoadETA [ITERATIONS]   (default 20,000 each)
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
let graph = try RoadGraph(contentsOf: root.appendingPathComponent("roads/monaco.graph"))
let iterations = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 20_000
var random = SplitMix(state: 2026)
let driverPlaces = (0..<2_000).map { _ in graph.coordinates[Int.random(in: 0..<graph.nodeCount, using: &random)] }
let pickups = (0..<iterations).map { _ in graph.coordinates[Int.random(in: 0..<graph.nodeCount, using: &random)] }
let clock = ContinuousClock()

func report(_ name: String, _ samples: [Duration], _ extra: String = "") {
    let micros = samples.map { Double($0.components.attoseconds) / 1e12 + Double($0.components.seconds) * 1e6 }.sorted()
    func at(_ q: Double) -> Double { micros[min(micros.count - 1, Int(Double(micros.count) * q))] }
    print(
        String(
            format: "%-15@ n=%d  p50 %7.1f us  p99 %7.1f us  p99.9 %7.1f us  max %7.1f us%@",
            name as NSString,
            micros.count,
            at(0.5),
            at(0.99),
            at(0.999),
            micros.last ?? 0,
            extra as NSString
        )
    )
}

// eta-20: the candidates as dispatch finds them, nearest first in a straight line.
var index = SpatialIndex<Int>()
for (number, place) in driverPlaces.enumerated() { index.upsert(number, at: place) }
var router = RoadRouter(graph: graph)
var etaSamples: [Duration] = []
var settled = 0
var reached = 0
for pickup in pickups {
    let candidates = (try? index.nearest(to: pickup, limit: 20, within: 3_000)) ?? []
    let places = candidates.map(\.coordinate)
    let started = clock.now
    let times = router.travelTimes(from: places, to: pickup, limit: .seconds(1_200))
    etaSamples.append(clock.now - started)
    settled += router.lastSettled
    reached += times.count { $0 != nil }
}
report(
    "eta-20",
    etaSamples,
    String(
        format: "  (%.0f nodes settled, %.1f of 20 reached per search)",
        Double(settled) / Double(iterations),
        Double(reached) / Double(iterations)
    )
)

let driverIDs = driverPlaces.indices.compactMap { try? DriverID("d\($0)") }
let riderIDs = (0..<64).compactMap { try? RiderID("r\($0)") }

func match(_ ranking: Ranking) -> [Duration] {
    var configuration = DispatchConfiguration()
    configuration.ranking = ranking
    configuration.locationMaximumAge = nil
    var state = DispatchState(configuration: configuration, roads: graph)
    var now = Date(timeIntervalSince1970: 1_800_000_000)
    for (id, place) in zip(driverIDs, driverPlaces) {
        _ = try? state.updateLocation(id, to: place, recordedAt: nil, now: now)
    }
    var samples: [Duration] = []
    samples.reserveCapacity(iterations)
    for (number, pickup) in pickups.enumerated() {
        now += 0.001
        guard let id = try? RideID("ride-\(number)") else { continue }
        let rider = riderIDs[number % riderIDs.count]
        let request = RideRequest(riderID: rider, pickup: pickup, dropoff: pickup)
        let started = clock.now
        let outcome = try? state.requestRide(request, idempotencyKey: nil, id: id, now: now)
        samples.append(clock.now - started)
        if let ride = outcome?.ride { _ = try? state.cancelByRider(ride.id, rider: rider, now: now) }
        _ = state.drainEvents()
    }
    return samples
}
// Alternated, so both meet the same machine.
var byETA: [Duration] = []
var byDistance: [Duration] = []
for _ in 0..<2 {
    byDistance += match(.distance)
    byETA += match(.eta)
}
report("match-distance", byDistance)
report("match-eta", byETA)
