import Histogram

/// Percentiles of one measure, in the measure's unit (milliseconds for latencies, meters for distances).
public struct MeasureSummary: Codable, Equatable, Sendable {
    public var count: UInt64
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    public var mean: Double
}

/// An HdrHistogram of one measure: latencies recorded in microseconds (three significant digits, so
/// a percentile is within 0.1 % of the true value), or any other non-negative quantity.
public struct Measure: Sendable {
    public private(set) var histogram: Histogram<UInt64>
    /// Recorded units per reported unit (1,000 µs per ms for latencies).
    public let scale: Double

    /// A latency measure: record seconds, report milliseconds.
    public static func latency(digits: SignificantDigits = .three) -> Measure {
        Measure(scale: 1_000, digits: digits)
    }

    /// A plain quantity: record and report the value itself (e.g. meters).
    public static func quantity() -> Measure {
        Measure(scale: 1, digits: .three)
    }

    private init(scale: Double, digits: SignificantDigits) {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: digits)
        histogram.autoResize = true
        self.histogram = histogram
        self.scale = scale
    }

    /// Records a latency given in seconds.
    public mutating func record(seconds: Double) {
        _ = histogram.record(UInt64(max(seconds, 0) * 1_000_000))
    }

    /// Records a quantity in its own unit.
    public mutating func record(_ value: Double) {
        _ = histogram.record(UInt64(max(value, 0).rounded()))
    }

    public mutating func add(_ other: Measure) {
        histogram.add(other.histogram)
    }

    public var count: UInt64 { histogram.totalCount }

    /// The value at `percentile` (0–100), in reported units.
    public func value(at percentile: Double) -> Double {
        Double(histogram.valueAtPercentile(percentile)) / scale
    }

    public var summary: MeasureSummary {
        guard count > 0 else { return MeasureSummary(count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0) }
        return MeasureSummary(
            count: count,
            p50: value(at: 50),
            p90: value(at: 90),
            p99: value(at: 99),
            p999: value(at: 99.9),
            max: Double(histogram.max) / scale,
            mean: histogram.mean / scale
        )
    }
}
