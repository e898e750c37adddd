// Measures the index's memory per driver: resident memory before and after inserting N drivers (and
// moving each once), divided by N, next to the index's own estimate. One configuration per process,
// so memory freed by an earlier run cannot hide growth:
//
//     swift run -c release IndexMemory uniform 1000000
import Fleet
import Foundation
import Geo

/// Resident set size in bytes, from /proc/self/statm.
func residentBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    guard fields.count > 1, let residentPages = Int(fields[1]) else { return 0 }
    return residentPages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 2, let layout = Layout(rawValue: String(arguments.first ?? "")),
    let size = Int(arguments.last ?? ""), size > 0
else {
    print("usage: IndexMemory uniform|hotspots DRIVERS")
    exit(2)
}

var rng = SplitMix64(seed: 0xD1CE)
let before = residentBytes()
var index = SpatialIndex<Int>()
for driver in 0..<size { index.upsert(driver, at: Fleet.randomPoint(layout, using: &rng)) }
// Move everyone once, as a live fleet would, so cells reach their steady-state capacity.
for driver in 0..<size { index.upsert(driver, at: Fleet.randomPoint(layout, using: &rng)) }
let growth = Double(residentBytes() - before)
print(
    "| \(size) | \(layout) | \(String(format: "%.1f", growth / 1_048_576)) | \(Int(growth / Double(size))) | "
        + "\(index.estimatedMemoryBytes / size) |"
)
