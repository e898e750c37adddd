// In-process matching: greedy against batch on the same generated demand and the same fleet.
//
//     swift run -c release MatchingBenchmark [requests]
//
// For each scenario and mode, a fresh DispatchState gets the fleet, then the rides in arrival order
// on a simulated clock (so batch windows are exact and nothing sleeps). Every offered driver accepts at
// once, drives the ride instantly and reports from the drop-off, so the fleet stays the same size.
// Measured with the wall clock: the compute of each request (greedy) or each batch (batch).
import DispatchCore
import Fleet
import Foundation
import Geo

struct Scenario {
    let name: String
    let drivers: Int
    let driverLayout: Layout
    let requestsPerSecond: Double
    let demandLayout: Layout
}

struct Outcome {
    var latencies: [Double] = []  // seconds, request to offer
    var computeSeconds = 0.0
    var matched = 0
    var unmatched = 0
    var pickupDistances: [Double] = []
}

let requestCount = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 20_000
let scenarios = [
    Scenario(
        name: "10k drivers, 100 req/s",
        drivers: 10_000,
        driverLayout: .uniform,
        requestsPerSecond: 100,
        demandLayout: .uniform
    ),
    Scenario(
        name: "100k drivers, 100 req/s",
        drivers: 100_000,
        driverLayout: .uniform,
        requestsPerSecond: 100,
        demandLayout: .uniform
    ),
    Scenario(
        name: "100k drivers, 1,000 req/s",
        drivers: 100_000,
        driverLayout: .uniform,
        requestsPerSecond: 1_000,
        demandLayout: .uniform
    ),
    Scenario(
        name: "2k drivers, 200 req/s at hotspots",
        drivers: 2_000,
        driverLayout: .uniform,
        requestsPerSecond: 200,
        demandLayout: .hotspots
    ),
]

func id<T>(_ make: () throws -> T) -> T? { try? make() }

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func run(_ scenario: Scenario, matching: MatchingMode) -> Outcome {
    var configuration = DispatchConfiguration()
    configuration.matching = matching
    configuration.driverFreshness = .seconds(86_400)
    configuration.searchTimeout = .seconds(86_400)
    var state = DispatchState(configuration: configuration)
    var now = Date(timeIntervalSince1970: 1_800_000_000)
    var rng = SplitMix64(seed: 2026)
    let drivers = (0..<scenario.drivers).compactMap { number in id { try DriverID("d\(number)") } }
    for driver in drivers {
        _ = try? state.updateLocation(
            driver,
            to: Fleet.randomPoint(scenario.driverLayout, using: &rng),
            recordedAt: nil,
            now: now
        )
    }
    // The same demand for both modes: the generator is seeded the same way.
    var demand = SplitMix64(seed: 7)
    let start = now
    var outcome = Outcome()
    var requestedAt: [RideID: Date] = [:]
    let clock = ContinuousClock()

    /// Drives every offered ride to completion at once and moves its driver to the drop-off.
    func settle(_ events: [RideEvent], computeOfOffers: Double, at time: Date) {
        for event in events where event.kind == .rideOffered {
            guard let offer = event.offer else { continue }
            outcome.matched += 1
            outcome.pickupDistances.append(offer.explanation.pickupDistance.value)
            if let asked = requestedAt.removeValue(forKey: event.rideID) {
                outcome.latencies.append(time.timeIntervalSince(asked) + computeOfOffers)
            }
            for action in [DriverAction.accept, .arrive, .start, .complete] {
                switch action {
                case .accept: _ = try? state.accept(event.rideID, by: offer.driverID, now: time)
                case .arrive: _ = try? state.arrive(event.rideID, by: offer.driverID, now: time)
                case .start: _ = try? state.start(event.rideID, by: offer.driverID, now: time)
                case .complete: _ = try? state.complete(event.rideID, by: offer.driverID, now: time)
                default: break
                }
            }
            _ = try? state.updateLocation(offer.driverID, to: offer.dropoff, recordedAt: nil, now: time)
        }
        _ = state.drainEvents()
    }

    /// Fires every timer due up to `time`, at the exact time each is due (batch windows, retries,
    /// radius widening), measuring the compute of each tick.
    func tick(until time: Date) {
        while let due = state.nextDeadline, due <= time {
            now = due
            let began = clock.now
            state.tick(now: now)
            let compute = seconds(clock.now - began)
            outcome.computeSeconds += compute
            settle(state.drainEvents(), computeOfOffers: compute, at: now)
        }
    }

    var lastArrival = start
    for number in 0..<requestCount {
        let arrival = start + Double(number) / scenario.requestsPerSecond
        lastArrival = arrival
        tick(until: arrival)
        now = arrival
        let pickup = Fleet.randomPoint(scenario.demandLayout, using: &demand)
        let dropoff = Fleet.randomPoint(.uniform, using: &demand)
        guard let rider = id({ try RiderID("r\(number)") }), let rideID = id({ try RideID("ride-\(number)") }) else {
            continue
        }
        requestedAt[rideID] = now
        let began = clock.now
        _ = try? state.requestRide(
            RideRequest(riderID: rider, pickup: pickup, dropoff: dropoff),
            idempotencyKey: nil,
            id: rideID,
            now: now
        )
        let compute = seconds(clock.now - began)
        outcome.computeSeconds += compute
        settle(state.drainEvents(), computeOfOffers: compute, at: now)
    }
    // Rides still searching get up to a minute more (radius widening runs to its maximum).
    tick(until: lastArrival + 60)
    outcome.unmatched = requestedAt.count
    return outcome
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

func format(_ seconds: Double) -> String {
    if seconds < 1e-3 { return String(format: "%.1f µs", seconds * 1e6) }
    if seconds < 1 { return String(format: "%.1f ms", seconds * 1e3) }
    return String(format: "%.1f s", seconds)
}

print("requests per run: \(requestCount); \(ProcessInfo.processInfo.processorCount) cores")
print(
    "| scenario | matching | matched | unmatched after 60 s | matches per second of compute | latency p50 | latency p99 | mean pickup distance |"
)
print("|---|---|---:|---:|---:|---:|---:|---:|")
for scenario in scenarios {
    for matching in MatchingMode.allCases {
        let outcome = run(scenario, matching: matching)
        let mean = outcome.pickupDistances.reduce(0, +) / Double(max(1, outcome.pickupDistances.count))
        print(
            "| \(scenario.name) | \(matching.rawValue) | \(outcome.matched) | \(outcome.unmatched) | "
                + "\(Int(Double(outcome.matched) / outcome.computeSeconds)) | \(format(percentile(outcome.latencies, 0.5))) | "
                + "\(format(percentile(outcome.latencies, 0.99))) | \(String(format: "%.0f m", mean)) |"
        )
    }
}
