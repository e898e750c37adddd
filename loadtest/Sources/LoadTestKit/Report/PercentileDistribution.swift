import Histogram

/// A run's latency histograms as HdrHistogram percentile distributions: the `.hgrm` text that
/// `HistogramLogProcessor` prints and HdrHistogram's plotter (`plotFiles.html`) reads, one file per
/// latency, written beside the result JSON.
///
/// The columns are value (milliseconds), percentile (0–1), total count up to the value and
/// `1/(1-percentile)`; the footer lines give the mean, standard deviation, maximum and count.
public enum PercentileDistribution {
    /// One latency histogram of a run and the name its file carries (`NAME-<time>.<name>.hgrm`).
    public struct Entry: Sendable {
        public var name: String
        public var measure: Measure

        public init(name: String, measure: Measure) {
            self.name = name
            self.measure = measure
        }
    }

    /// The file name extension.
    public static let fileExtension = "hgrm"

    /// Every latency the recorder measured, in a fixed order: the rider's view (`match`,
    /// `match-at-once`, `accept`), driver location updates (`location`), the generator's own lag
    /// (`send-lag`, `tick-lag`), then each endpoint called (`endpoint-post-v1-rides`, …).
    /// The fixed ones are listed even when empty, so a script can rely on their files.
    /// - Parameter recorder: The run's measurements.
    /// - Returns: The histograms with their file names.
    public static func latencies(of recorder: Recorder) -> [Entry] {
        var entries = [
            Entry(name: "match", measure: recorder.match),
            Entry(name: "match-at-once", measure: recorder.matchAtOnce),
            Entry(name: "accept", measure: recorder.accept),
            Entry(name: "location", measure: recorder.location),
            Entry(name: "send-lag", measure: recorder.schedulerLag),
            Entry(name: "tick-lag", measure: recorder.tickLag),
        ]
        for (endpoint, measure) in recorder.endpoints.sorted(by: { $0.key < $1.key }) {
            entries.append(Entry(name: "endpoint-" + slug(endpoint), measure: measure))
        }
        return entries
    }

    /// `POST /v1/rides/{id}/cancel` → `post-v1-rides-id-cancel`: lower case, each run of other
    /// characters than ASCII letters and digits one hyphen, none at either end.
    public static func slug(_ text: String) -> String {
        var result = ""
        var pendingHyphen = false
        for character in text.lowercased() {
            if character.isASCII, character.isLetter || character.isNumber {
                if pendingHyphen, !result.isEmpty { result.append("-") }
                pendingHyphen = false
                result.append(character)
            } else {
                pendingHyphen = true
            }
        }
        return result
    }

    /// The percentile distribution of one measure, in its reported unit (milliseconds for latencies).
    /// - Parameters:
    ///   - measure: The histogram.
    ///   - ticksPerHalfDistance: Percentile rows per halving of the distance to 100 % (HdrHistogram's
    ///     default is 5).
    /// - Returns: The `.hgrm` text: header, one row per percentile step, and the `#[...]` footer.
    public static func text(of measure: Measure, ticksPerHalfDistance: Int = 5) -> String {
        var text = ""
        measure.histogram.outputPercentileDistribution(
            to: &text,
            outputValueUnitScalingRatio: measure.scale,
            percentileTicksPerHalfDistance: ticksPerHalfDistance
        )
        return text
    }
}
