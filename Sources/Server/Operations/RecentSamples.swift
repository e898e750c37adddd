import DequeModule
import Foundation
import Synchronization

/// The values recorded over the last minute (at most `capacity` of them), for quantiles an operator
/// reads live: the console's match and commit latencies. Prometheus keeps the long history; this keeps
/// only what one screen needs.
final class RecentSamples: Sendable {
    private let samples: Mutex<Deque<(at: ContinuousClock.Instant, value: Double)>> = Mutex([])
    private let capacity: Int
    private let window: Duration

    /// - Parameters:
    ///   - capacity: At most this many samples are kept; past it the oldest go first.
    ///   - window: How far back quantiles look.
    init(capacity: Int = 8_192, window: Duration = .seconds(60)) {
        self.capacity = capacity
        self.window = window
    }

    /// Records a value at the current time.
    func record(_ value: Double, at now: ContinuousClock.Instant = .now) {
        samples.withLock { samples in
            samples.append((now, value))
            if samples.count > capacity { samples.removeFirst(samples.count - capacity) }
        }
    }

    /// The quantiles of the values recorded within the window, by nearest rank; nil with none.
    func quantiles(_ qs: [Double], now: ContinuousClock.Instant = .now) -> [Double]? {
        let values = samples.withLock { samples -> [Double] in
            while let first = samples.first, now - first.at > window { samples.removeFirst() }
            return samples.map(\.value)
        }
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return qs.map { q in
            let rank = Int((q * Double(sorted.count)).rounded(.up))
            return sorted[min(sorted.count - 1, max(0, rank - 1))]
        }
    }
}
