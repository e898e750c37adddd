import DispatchCore
import Foundation
import Geo

// The core's location path on its own: `DispatchState.updateLocation` for 20,000 drivers moving around
// Seoul at 4,000 reports a second of service time, counts read every second as the server does.
// With `follow`, the operators' map reads what changed twice a second of service time, as an open
// console does, so the dispatcher's change journals record; without, nobody follows and they record
// nothing. Prints nanoseconds per update. Benchmarks/core/compare-location-updates runs both in turn.
//
//   LocationUpdates [UPDATES [follow]]   (default 4,000,000, nobody following)
var configuration = DispatchConfiguration()
configuration.locationMaximumAge = nil
var state = DispatchState(configuration: configuration)
let drivers = (0..<20_000).compactMap { try? DriverID("driver-\($0)") }
let positions = (0..<4_096).compactMap { _ in
    try? Coordinate(latitude: Double.random(in: 37.45...37.65), longitude: Double.random(in: 126.85...127.15))
}
var now = Date(timeIntervalSince1970: 1_800_000_000)
for (index, id) in drivers.enumerated() {
    _ = try? state.updateLocation(id, to: positions[index % positions.count], recordedAt: nil, now: now)
}
let updates = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 4_000_000
let follow = CommandLine.arguments.dropFirst(2).first == "follow"
var position: CityChanges.Position?
let clock = ContinuousClock()
let started = clock.now
var applied = 0
for step in 0..<updates {
    now += 0.000_25
    let outcome = try? state.updateLocation(
        drivers[step % drivers.count],
        to: positions[step % positions.count],
        recordedAt: nil,
        now: now
    )
    if case .applied = outcome { applied += 1 }
    if step % 4_000 == 0 { _ = state.driverCounts(now: now) }
    if follow, step % 2_000 == 0 { position = state.cityChanges(since: position, now: now).position }
}
let elapsed = clock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print(String(format: "%.1f ns/update (%d of %d applied)", seconds / Double(updates) * 1e9, applied, updates))
