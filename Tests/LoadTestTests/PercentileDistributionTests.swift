import Foundation
import Testing

@testable import LoadTestKit

@Suite("Latency histograms as HdrHistogram percentile distributions (.hgrm)")
struct PercentileDistributionTests {
    /// One `.hgrm` file read back as HdrHistogram's plotter reads it.
    struct Parsed {
        struct Row {
            var value: Double
            var percentile: Double
            var totalCount: UInt64
            /// `1/(1-percentile)`; nil on the last row (percentile 1).
            var inverse: Double?
        }

        var header: [String]
        var rows: [Row] = []
        var mean: Double?
        var standardDeviation: Double?
        var max: Double?
        var totalCount: UInt64?
        var buckets: Int?

        init(_ text: String) throws {
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            header = lines.removeFirst().split(separator: " ").map(String.init)
            #expect(lines.removeFirst().isEmpty, "a blank line follows the header")
            #expect(lines.last == "", "the file ends with a newline")
            for line in lines where !line.isEmpty {
                if line.hasPrefix("#[") {
                    // `#[Mean    =        1.234, StdDeviation   =        0.567]`
                    let pairs = line.dropFirst(2).dropLast().split(separator: ",").map {
                        $0.split(separator: "=").map { $0.trimmingCharacters(in: .whitespaces) }
                    }
                    for pair in pairs {
                        try #require(pair.count == 2, "a footer field is NAME = VALUE: \(line)")
                        switch pair[0] {
                        case "Mean": mean = Double(pair[1])
                        case "StdDeviation": standardDeviation = Double(pair[1])
                        case "Max": max = Double(pair[1])
                        case "Total count": totalCount = UInt64(pair[1])
                        case "Buckets": buckets = Int(pair[1])
                        case "SubBuckets": break
                        default: Issue.record("unknown footer field \(pair[0])")
                        }
                    }
                } else {
                    let columns = line.split(separator: " ").map(String.init)
                    try #require(columns.count == 3 || columns.count == 4, "a row has 3 or 4 columns: \(line)")
                    rows.append(
                        Row(
                            value: try #require(Double(columns[0])),
                            percentile: try #require(Double(columns[1])),
                            totalCount: try #require(UInt64(columns[2])),
                            inverse: columns.count == 4 ? Double(columns[3]) : nil
                        )
                    )
                }
            }
        }
    }

    /// Latencies from 0.2 ms to about 2 s, most of them short: a long tail, as a service shows.
    static func latencies(count: Int, seed: UInt64) -> Measure {
        var random = SplitMix64(seed: seed)
        var measure = Measure.latency()
        for _ in 0..<count {
            measure.record(seconds: 0.000_2 * pow(10_000, pow(random.unit(), 3)))
        }
        return measure
    }

    @Test("the text parses back: header, rows that follow the histogram's percentiles, and the footer")
    func parsesBack() throws {
        let measure = Self.latencies(count: 20_000, seed: 7)
        let parsed = try Parsed(PercentileDistribution.text(of: measure))
        #expect(parsed.header == ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"])
        try #require(parsed.rows.count > 20)
        let histogram = measure.histogram
        var previous: Parsed.Row?
        for row in parsed.rows {
            if let previous {
                #expect(row.percentile >= previous.percentile)
                #expect(row.value >= previous.value)
                #expect(row.totalCount >= previous.totalCount)
            }
            previous = row
            #expect((0...1).contains(row.percentile))
            // Values are in ms with three decimals: whole microseconds, the recorded unit.
            let recorded = UInt64((row.value * measure.scale).rounded())
            if row.percentile < 1 {
                #expect(
                    histogram.valuesAreEquivalent(recorded, histogram.valueAtPercentile(row.percentile * 100)),
                    "row at \(row.percentile): \(row.value) ms, the histogram says \(measure.value(at: row.percentile * 100))"
                )
                let inverse = try #require(row.inverse)
                #expect(abs(inverse - 1 / (1 - row.percentile)) <= 0.01 * inverse)
                // The count up to the value covers at least the row's share of all values.
                #expect(Double(row.totalCount) >= (row.percentile * Double(measure.count)).rounded(.down))
            } else {
                #expect(row.inverse == nil, "the last row has no 1/(1-percentile)")
                #expect(histogram.valuesAreEquivalent(recorded, histogram.maxRecorded))
            }
        }
        let last = try #require(parsed.rows.last)
        #expect(last.percentile == 1)
        #expect(last.totalCount == measure.count)
        let median = try #require(parsed.rows.first { $0.percentile == 0.5 })
        #expect(abs(median.value - measure.summary.p50) < 0.000_5)

        let summary = measure.summary
        #expect(abs(try #require(parsed.mean) - summary.mean) < 0.000_5)
        #expect(abs(try #require(parsed.max) - summary.max) < 0.000_5)
        #expect(try #require(parsed.standardDeviation) > 0)
        #expect(parsed.totalCount == measure.count)
        #expect(try #require(parsed.buckets) > 0)
    }

    @Test("more ticks per half distance give more rows of the same distribution")
    func ticks() throws {
        let measure = Self.latencies(count: 5_000, seed: 11)
        let coarse = try Parsed(PercentileDistribution.text(of: measure, ticksPerHalfDistance: 1))
        let fine = try Parsed(PercentileDistribution.text(of: measure, ticksPerHalfDistance: 10))
        #expect(fine.rows.count > coarse.rows.count)
        #expect(fine.rows.last?.value == coarse.rows.last?.value)
        #expect(fine.totalCount == coarse.totalCount)
    }

    @Test("an empty histogram is a valid file: header and footer, no rows")
    func empty() throws {
        let parsed = try Parsed(PercentileDistribution.text(of: .latency()))
        #expect(parsed.header.first == "Value")
        #expect(parsed.rows.isEmpty)
        #expect(parsed.totalCount == 0)
    }

    @Test("a run's latencies: the fixed ones always, in order, then one per endpoint called")
    func latenciesOfARun() {
        var recorder = Recorder()
        recorder.matched(requestedAt: 0, latency: 0.004)
        recorder.accepted(latency: 1.5, pickupMeters: nil)
        recorder.call("POST /v1/rides", latency: 0.003)
        recorder.call("POST /v1/rides", latency: 0.005)
        recorder.call("GET /v1/rides/{id}", latency: 0.001)
        let entries = PercentileDistribution.latencies(of: recorder)
        #expect(
            entries.map(\.name) == [
                "match", "match-at-once", "accept", "location", "send-lag", "tick-lag",
                "endpoint-get-v1-rides-id", "endpoint-post-v1-rides",
            ]
        )
        #expect(entries.map(\.measure.count) == [1, 1, 1, 0, 0, 0, 1, 2])
        #expect(Set(entries.map(\.name)).count == entries.count, "no two files share a name")
        #expect(PercentileDistribution.latencies(of: Recorder()).count == 6)
    }

    @Test(
        "endpoint names become file-name slugs",
        arguments: [
            ("POST /v1/rides", "post-v1-rides"),
            ("POST /v1/rides/{id}/cancel", "post-v1-rides-id-cancel"),
            ("PUT /v1/drivers/{id}/location", "put-v1-drivers-id-location"),
            ("channel location", "channel-location"),
            ("  --/x//  ", "x"),
            ("GET /v1/drivers/{id}/offer?wait=1", "get-v1-drivers-id-offer-wait-1"),
            ("Ünïcode é", "n-code"),
        ]
    )
    func slugs(endpoint: String, slug: String) {
        #expect(PercentileDistribution.slug(endpoint) == slug)
    }
}
