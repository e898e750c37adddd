import Foundation

/// The plain-text summary printed at the end of a run.
public enum SummaryTable {
    public static func render(_ result: RunResult) -> String {
        var lines: [String] = []
        let title = "\(result.scenario.name) against \(result.target) (matching: \(result.matching))"
        lines.append(title)
        lines.append(String(repeating: "=", count: title.count))
        if result.wasInterrupted {
            lines.append(interruption(result))
        }
        lines.append(row(["measure", "count", "p50", "p90", "p99", "p99.9", "max"]))
        lines.append(row(["match latency (ms)"] + cells(result.match)))
        lines.append(row(["  offered at once (ms)"] + cells(result.matchAtOnce)))
        lines.append(row(["time to accepted driver (ms)"] + cells(result.accept)))
        lines.append(row(["location update (ms)"] + cells(result.location)))
        lines.append(row(["pickup distance (m)"] + cells(result.pickupDistance, digits: 0)))
        if let eta = result.pickupETA, eta.count > 0 {
            lines.append(row(["pickup ETA (s)"] + cells(eta, digits: 0)))
        }
        lines.append(row(["client send lag (ms)"] + cells(result.schedulerLag)))
        for (endpoint, summary) in result.endpoints.sorted(by: { $0.key < $1.key }) {
            lines.append(row(["  \(endpoint) (ms)"] + cells(summary)))
        }
        lines.append("")
        let scenario = result.scenario
        let streaming = min(scenario.driverStreams, scenario.drivers - scenario.driverChannels)
        lines.append(
            "drivers: \(scenario.drivers) (\(scenario.driverChannels) on the channel, "
                + "\(streaming) on HTTP with an event stream, "
                + "\(scenario.drivers - scenario.driverChannels - streaming) on HTTP polling)"
        )
        let seconds = max(result.requestSeconds, 1)
        lines.append(
            "rates: \(format(Double(result.count(.requested)) / seconds, 1)) requests/s, "
                + "\(format(Double(result.count(.matched)) / seconds, 1)) matched/s, "
                + "\(format(result.locationUpdatesPerSecond, 0)) location updates/s"
        )
        lines.append(
            "rides: \(result.count(.requested)) requested, \(result.count(.acknowledged)) acknowledged, "
                + "\(result.count(.matched)) matched, \(result.count(.accepted)) accepted, "
                + "\(result.count(.completed)) completed, \(result.count(.cancelledByRider)) cancelled by riders, "
                + "\(result.count(.unfulfilled)) unfulfilled"
        )
        lines.append(
            "waited for a driver to free up: \(Int(result.match.count) - Int(result.matchAtOnce.count)) rides "
                + "(no driver free within the search radius when they asked; the server looks again every second)"
        )
        lines.append(
            "mean pickup distance: \(format(result.pickupDistance.mean, 0)) m; offers seen by drivers: "
                + "\(result.count(.offersSeen)) (\(result.count(.offersDeclined)) declined, "
                + "\(result.count(.offersIgnored)) left to expire)"
        )
        let offers = result.count(.offersSeen)
        lines.append(
            "as riders feel it: time to an accepted driver mean \(format(result.accept.mean / 1_000, 1)) s, "
                + "p50 \(format(result.accept.p50 / 1_000, 1)) s, p90 \(format(result.accept.p90 / 1_000, 1)) s; "
                + (result.pickupETA.map { $0.count > 0 ? "pickup ETA mean \(format($0.mean, 0)) s; " : "" } ?? "")
                + "\(format(Double(offers) / Double(max(result.count(.acknowledged), 1)), 2)) offers per ride, "
                + "\(format(100 * Double(result.count(.offersDeclined)) / Double(max(offers, 1)), 1)) % declined, "
                + "\(format(100 * Double(result.count(.offersIgnored)) / Double(max(offers, 1)), 1)) % expired"
        )
        if let fairness = result.fairness { lines.append(fairness.line) }
        if let rate = result.sustainableRate {
            lines.append(
                "peak: highest rate with p99 match latency ≤ \(format(result.scenario.objectiveP99MatchMs, 0)) ms "
                    + "in every step up to it: \(format(rate, 0)) requests/s"
            )
            for step in result.steps {
                lines.append(
                    "  step \(step.index): \(format(step.rate, 0)) req/s, \(step.requested) requested, "
                        + "\(step.matched) matched, p50 \(format(step.matchP50, 2)) ms, "
                        + "p99 \(format(step.matchP99, 2)) ms, \(step.errors) errors \(step.held ? "held" : "MISSED")"
                )
            }
        }
        for usage in result.server {
            lines.append(
                "server (seconds \(usage.fromSecond)–\(usage.toSecond)): \(format(usage.cpuCores, 2)) cores, "
                    + "\(usage.residentBytes / 1_048_576) MiB resident"
            )
        }
        let generator = result.generator
        lines.append(
            "generator: \(generator.cpuCores.map { format($0, 2) } ?? "?") cores, ticker lag p99 "
                + "\(format(generator.tickLagP99, 1)) ms, send lag p99 \(format(generator.sendLagP99, 1)) ms, "
                + "\(generator.waits) of \(generator.calls) calls held in the generator"
        )
        lines.append(
            "shed or refused by the service (503 overloaded or database_unavailable, Retry-After): \(result.count(.shed))"
                + result.shed.sorted(by: { $0.key < $1.key }).map { "\n  \($0.key): \($0.value)" }.joined()
        )
        lines.append(
            "errors: \(result.errorCount)"
                + result.errors.sorted(by: { $0.key < $1.key }).map { "\n  \($0.key): \($0.value)" }.joined()
        )
        if !result.conflicts.isEmpty {
            lines.append(
                "expected conflicts (races the protocol allows):"
                    + result.conflicts.sorted(by: { $0.key < $1.key }).map { "\n  \($0.key): \($0.value)" }.joined()
            )
        }
        let check = result.consistency
        lines.append(
            "consistency: \(check.acknowledged) acknowledged, \(check.finished) finished, "
                + "\(check.unfinished) still running, \(check.lost.count) lost, "
                + "\(check.unseenEndings.count) endings unseen, \(check.doubleBookings.count) double bookings, "
                + "\(check.offersWhileBusy) offers to drivers whose ride ended unheard"
                + ((check.notReadBack ?? 0) > 0 ? ", \(check.notReadBack ?? 0) not read back (not checked)" : "")
        )
        for problem in (check.lost + check.unseenEndings + check.doubleBookings).prefix(20) {
            lines.append("  \(problem)")
        }
        if !generator.valid {
            lines.append(
                "INVALID: the generator fell behind, so these figures measure it, not the service:"
                    + generator.problems.map { "\n  \($0)" }.joined()
            )
        }
        lines.append(
            result.wasInterrupted
                ? "INTERRUPTED" : result.passed ? "PASSED" : generator.valid ? "FAILED" : "FAILED (invalid run)"
        )
        return lines.joined(separator: "\n")
    }

    /// The line saying a signal ended the run early, and what its figures cover.
    public static func interruption(_ result: RunResult) -> String {
        "INTERRUPTED after \(format(result.requestSeconds, 1)) of \(format(result.scenario.durationSeconds, 0)) s "
            + "of requests: partial results, rides in flight not waited for"
    }

    static func cells(_ summary: MeasureSummary, digits: Int = 2) -> [String] {
        [
            "\(summary.count)", format(summary.p50, digits), format(summary.p90, digits), format(summary.p99, digits),
            format(summary.p999, digits), format(summary.max, digits),
        ]
    }

    static func row(_ cells: [String]) -> String {
        guard let first = cells.first else { return "" }
        return first.padding(toLength: 32, withPad: " ", startingAt: 0)
            + cells.dropFirst().map { String(repeating: " ", count: max(10 - $0.count, 1)) + $0 }.joined()
    }

    public static func format(_ value: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }
}
