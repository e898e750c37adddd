import Foundation
import LoadTestKit
import Synchronization

/// The server process's CPU time and resident memory, read from `/proc/<pid>` once a second, so a
/// report can say what the server used at a given load (Linux only; nothing when no PID is given).
struct ServerSampler: Sendable {
    /// (second of the run, CPU seconds used so far, resident bytes).
    private(set) var samples: [(second: Double, cpu: Double, rss: Int)] = []

    mutating func sample(pid: Int32, second: Double) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        else { return }
        // Fields after the command name (which may hold spaces) start at ")"; utime and stime are
        // the 14th and 15th fields, in clock ticks (100 per second on Linux).
        guard let close = stat.lastIndex(of: ")") else { return }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return }
        let rssLine = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        let kilobytes = rssLine?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        samples.append((second, (user + system) / 100, kilobytes * 1_024))
    }

    /// Use over the whole request window, and over each step of a staircase.
    func windows(scenario: Scenario) -> [RunResult.ServerUsage] {
        var windows = [(0.0, scenario.durationSeconds)]
        if let step = scenario.rateProfile.step, step.seconds > 0 {
            var from = 0.0
            while from < scenario.durationSeconds {
                windows.append((from, min(from + step.seconds, scenario.durationSeconds)))
                from += step.seconds
            }
        }
        return windows.compactMap { from, to -> RunResult.ServerUsage? in
            let inside = samples.filter { $0.second >= from && $0.second <= to }
            guard let first = inside.first, let last = inside.last, last.second > first.second else { return nil }
            return RunResult.ServerUsage(
                cpuCores: (last.cpu - first.cpu) / (last.second - first.second),
                residentBytes: inside.map(\.rss).max() ?? 0,
                fromSecond: Int(from),
                toSecond: Int(to)
            )
        }
    }
}

extension LoadTest {
    func sampleServer() async {
        guard let serverPID else { return }
        while !Task.isCancelled {
            let second = runSecond()
            usage.withLock { $0.sample(pid: serverPID, second: second) }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// One line a second: where the run is, what it sends and gets, latency so far, errors.
    func reportProgress() async {
        let total = scenario.warmupSeconds + scenario.durationSeconds
        var previous = (requested: 0, matched: 0, updates: 0)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { return }
            let line = world.withLock { world -> String in
                let recorder = world.recorder
                let requested = recorder.value(.requested)
                let matched = recorder.value(.matched)
                let updates = recorder.value(.locationUpdates)
                defer { previous = (requested, matched, updates) }
                let phase = now() < scenario.warmupSeconds ? "warm-up" : now() < total ? "requests" : "drain"
                return "[\(phase)] "
                    + String(
                        format: "%5.0fs/%.0fs sent %4d/s matched %4d/s updates %5d/s | match p50 %6.2f ms p99 %7.2f ms"
                            + " | open rides %d | errors %d",
                        now(),
                        total,
                        requested - previous.requested,
                        matched - previous.matched,
                        updates - previous.updates,
                        recorder.match.value(at: 50),
                        recorder.match.value(at: 99),
                        world.consistency.openCount,
                        recorder.errorCount
                    )
            }
            say(line)
        }
    }
}
