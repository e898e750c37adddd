import Foundation

/// A self-contained HTML report (inline CSS and SVG; no scripts, fonts or network) of one or more runs.
/// Given runs with different matching modes, it ends with a side-by-side comparison.
public enum HTMLReport {
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    public static func render(_ results: [RunResult]) -> String {
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>dispatch load test</title>
            <style>
            body{font-family:sans-serif;max-width:780px;margin:2em auto;color:#222}
            table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 8px;text-align:right}
            th:first-child,td:first-child{text-align:left}tr:nth-child(even){background:#f4f4f4}
            .pass{color:#080;font-weight:bold}.fail{color:#c00;font-weight:bold}
            h2{border-top:1px solid #ccc;padding-top:.6em}small{color:#666}
            </style></head><body>
            <h1>Dispatch load test</h1>

            """
        if results.count > 1 { html += comparison(results) }
        for result in results { html += section(result) }
        return html + "</body></html>\n"
    }

    static func section(_ result: RunResult) -> String {
        let e = SVGChart.escape
        let s = result.scenario
        var html = "<h2>\(e(s.name)) — matching: \(e(result.matching))</h2>\n"
        html += "<p>\(e(s.description))</p>\n"
        html +=
            "<p><small>Target \(e(result.target)), started \(e(result.startedAt)); \(s.drivers) drivers reporting "
            + "every \(SummaryTable.format(s.locationIntervalSeconds, 0)) s; requests for "
            + "\(SummaryTable.format(s.durationSeconds, 0)) s at \(SummaryTable.format(s.requestRate, 0))/s"
            + (s.rampToRate.map { " ramping to \(SummaryTable.format($0, 0))/s" } ?? "")
            + (s.stepRate.map {
                ", +\(SummaryTable.format($0, 0))/s every \(SummaryTable.format(s.stepSeconds ?? 0, 0)) s"
            }
                ?? "")
            + ".</small></p>\n"
        if result.wasInterrupted {
            html += "<p class=\"fail\">\(e(SummaryTable.interruption(result))).</p>\n"
        }
        html +=
            result.passed
            ? "<p class=\"pass\">PASSED: no errors, no lost rides, no double bookings.</p>\n"
            : "<p class=\"fail\">\(result.wasInterrupted ? "NOT PASSED (interrupted)" : "FAILED"): "
                + "\(result.errorCount) errors, \(result.consistency.lost.count) lost rides, "
                + "\(result.consistency.doubleBookings.count) double bookings"
                + (result.generator.valid
                    ? "" : "; INVALID run: " + result.generator.problems.map(e).joined(separator: "; "))
                + ".</p>\n"
        let generator = result.generator
        html +=
            "<p><small>Drivers: \(s.driverChannels) on the channel, the rest on HTTP. Shed by the service (503 "
            + "with Retry-After): \(result.count(.shed)). Generator: "
            + "\(generator.cpuCores.map { SummaryTable.format($0, 2) } ?? "?") cores, ticker lag p99 "
            + "\(SummaryTable.format(generator.tickLagP99, 1)) ms, \(generator.waits) of \(generator.calls) calls held "
            + "in the generator.</small></p>\n"
        html += "<table><tr><th>measure</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th>"
        html += "<th>max</th></tr>\n"
        var rows: [(String, MeasureSummary, Int)] = [
            ("match latency (ms)", result.match, 2), ("  offered at once (ms)", result.matchAtOnce, 2),
            ("time to accepted driver (ms)", result.accept, 2),
            ("location update (ms)", result.location, 2), ("pickup distance (m)", result.pickupDistance, 0),
        ]
        rows += result.endpoints.sorted(by: { $0.key < $1.key }).map { ("\($0.key) (ms)", $0.value, 2) }
        for (name, summary, digits) in rows {
            html +=
                "<tr><td>\(e(name))</td>"
                + SummaryTable.cells(summary, digits: digits).map { "<td>\($0)</td>" }.joined() + "</tr>\n"
        }
        html += "</table>\n"
        html += "<pre>\(e(SummaryTable.render(result)))</pre>\n"

        let objective = (
            y: s.objectiveP99MatchMs, label: "objective p99 \(SummaryTable.format(s.objectiveP99MatchMs, 0)) ms"
        )
        html +=
            "<h3>Latency over time</h3>\n<p><small>Match latency: request scheduled → first offer seen on the rider's "
        html += "stream, by the second the request was scheduled.</small></p>\n"
        html += SVGChart.lines(
            [
                .init(name: "p50", color: colors[0], points: matchedPoints(result) { $0.matchP50 }),
                .init(name: "p99", color: colors[1], points: matchedPoints(result) { $0.matchP99 }),
                .init(
                    name: "location update p99",
                    color: colors[3],
                    points: result.timeline.filter { $0.locationUpdates > 0 }.map {
                        (Double($0.second), $0.locationP99)
                    }
                ),
            ],
            xLabel: "second of the run",
            yLabel: "ms (log scale)",
            horizontal: objective,
            logY: true
        )
        html += "<h3>Latency distribution</h3>\n"
        html += distribution(result)
        html += "<h3>Throughput over time</h3>\n"
        html += SVGChart.lines(
            [
                .init(name: "requested/s", color: colors[0], points: points(result) { Double($0.requested) }),
                .init(name: "matched/s", color: colors[2], points: points(result) { Double($0.matched) }),
                .init(name: "errors/s", color: colors[1], points: points(result) { Double($0.errors) }),
            ],
            xLabel: "second of the run",
            yLabel: "rides per second"
        )
        html += SVGChart.lines(
            [
                .init(
                    name: "location updates/s",
                    color: colors[3],
                    points: points(result) { Double($0.locationUpdates) }
                )
            ],
            xLabel: "second of the run",
            yLabel: "updates per second"
        )
        if !result.steps.isEmpty {
            html += "<h3>Peak search</h3>\n<p>Highest rate held in every step up to it: <b>"
            html += "\(SummaryTable.format(result.sustainableRate ?? 0, 0)) requests/s</b>.</p>\n"
            html += "<table><tr><th>step</th><th>rate</th><th>requested</th><th>matched</th><th>p50 ms (at once)</th>"
            html += "<th>p99 ms (at once)</th><th>errors</th><th>held</th></tr>\n"
            for step in result.steps {
                html +=
                    "<tr><td>\(step.index)</td><td>\(SummaryTable.format(step.rate, 0))</td><td>\(step.requested)</td>"
                html += "<td>\(step.matched)</td><td>\(SummaryTable.format(step.matchP50, 2))</td>"
                html += "<td>\(SummaryTable.format(step.matchP99, 2))</td><td>\(step.errors)</td>"
                html += "<td>\(step.held ? "yes" : "<b>no</b>")</td></tr>\n"
            }
            html += "</table>\n"
        }
        return html
    }

    /// Who got the rides in each run: offers and trips per driver-hour by cohort, and the Gini
    /// coefficients across drivers.
    static func fairness(labels: [String], results: [RunResult]) -> String {
        let withFigures = zip(labels, results).compactMap { label, result in result.fairness.map { (label, $0) } }
        guard !withFigures.isEmpty else { return "" }
        var html = "<h2>Fairness</h2>\n<table><tr><th>run</th><th>cohort</th><th>drivers</th>"
        html += "<th>mean accept</th><th>offers per driver-hour</th><th>trips per driver-hour</th>"
        html += "<th>Gini of offers</th><th>Gini of trips</th></tr>\n"
        for (label, fairness) in withFigures {
            for cohort in fairness.cohorts {
                html += "<tr><td>\(SVGChart.escape(label))</td><td>\(SVGChart.escape(cohort.name))</td>"
                html +=
                    "<td>\(cohort.drivers)</td><td>\(SummaryTable.format(100 * cohort.meanAcceptProbability, 0)) %</td>"
                html += "<td>\(SummaryTable.format(cohort.offersPerDriverHour, 1))</td>"
                html += "<td>\(SummaryTable.format(cohort.tripsPerDriverHour, 1))</td>"
                html += "<td>\(fairness.offerGini.map { SummaryTable.format($0, 3) } ?? "")</td>"
                html += "<td>\(fairness.tripGini.map { SummaryTable.format($0, 3) } ?? "")</td></tr>\n"
            }
        }
        return html + "</table>\n"
    }

    /// Greedy against batch, or one ranking against another (any runs side by side): latency, pickup
    /// distance and ETA, and dispatch as riders feel it.
    static func comparison(_ results: [RunResult]) -> String {
        let labels = results.map {
            "\($0.scenario.name) / \($0.matching)" + ($0.wasInterrupted ? " (interrupted)" : "")
        }
        var html = "<h2>Side by side</h2>\n<table><tr><th>run</th><th>match p50 ms</th><th>match p99 ms</th>"
        html += "<th>mean pickup m</th><th>mean pickup ETA s</th><th>to accepted driver: mean, p50, p90 s</th>"
        html += "<th>offers per ride</th><th>declined</th><th>expired</th><th>matched</th><th>unfulfilled</th>"
        html += "<th>errors</th></tr>\n"
        for (label, result) in zip(labels, results) {
            let offers = Double(max(result.count(.offersSeen), 1))
            html += "<tr><td>\(SVGChart.escape(label))</td><td>\(SummaryTable.format(result.match.p50, 2))</td>"
            html += "<td>\(SummaryTable.format(result.match.p99, 2))</td>"
            html += "<td>\(SummaryTable.format(result.pickupDistance.mean, 0))</td>"
            html += "<td>\(result.pickupETA.map { SummaryTable.format($0.mean, 0) } ?? "")</td>"
            html +=
                "<td>\([result.accept.mean, result.accept.p50, result.accept.p90].map { SummaryTable.format($0 / 1_000, 1) }.joined(separator: ", "))</td>"
            html +=
                "<td>\(SummaryTable.format(Double(result.count(.offersSeen)) / Double(max(result.count(.acknowledged), 1)), 2))</td>"
            html += "<td>\(SummaryTable.format(100 * Double(result.count(.offersDeclined)) / offers, 1)) %</td>"
            html += "<td>\(SummaryTable.format(100 * Double(result.count(.offersIgnored)) / offers, 1)) %</td>"
            html +=
                "<td>\(result.count(.matched))</td><td>\(result.count(.unfulfilled))</td><td>\(result.errorCount)</td></tr>\n"
        }
        html += "</table>\n"
        html += fairness(labels: labels, results: results)
        html += SVGChart.bars(
            groups: ["match p50 (ms)", "match p99 (ms)"],
            series: zip(labels, results).enumerated().map { i, run in
                (run.0, colors[i % colors.count], [run.1.match.p50, run.1.match.p99])
            },
            yLabel: "ms"
        )
        html += SVGChart.bars(
            groups: ["mean pickup distance (m)"],
            series: zip(labels, results).enumerated().map { i, run in
                (run.0, colors[i % colors.count], [run.1.pickupDistance.mean])
            },
            yLabel: "meters"
        )
        return html
    }

    static func distribution(_ result: RunResult) -> String {
        // x = -log10(1 - percentile): 50 % → 0.3, 90 % → 1, 99 % → 2, 99.9 % → 3; max drawn at 4.
        func curve(_ summary: MeasureSummary) -> [(x: Double, y: Double)] {
            guard summary.count > 0 else { return [] }
            return [(0.301, summary.p50), (1, summary.p90), (2, summary.p99), (3, summary.p999), (4, summary.max)]
        }
        return SVGChart.lines(
            [
                .init(name: "match latency", color: colors[0], points: curve(result.match)),
                .init(name: "time to accepted driver", color: colors[2], points: curve(result.accept)),
                .init(name: "location update", color: colors[3], points: curve(result.location)),
            ],
            xLabel: "percentile",
            yLabel: "ms (log scale)",
            xTicks: [(0.301, "50%"), (1, "90%"), (2, "99%"), (3, "99.9%"), (4, "max")],
            logY: true
        )
    }

    static func points(_ result: RunResult, _ value: (RunResult.Point) -> Double) -> [(x: Double, y: Double)] {
        result.timeline.map { (Double($0.second), value($0)) }
    }

    /// Only seconds in which something matched (a second with no match has no latency, not zero).
    static func matchedPoints(_ result: RunResult, _ value: (RunResult.Point) -> Double) -> [(x: Double, y: Double)] {
        result.timeline.filter { $0.matched > 0 }.map { (Double($0.second), value($0)) }
    }
}
