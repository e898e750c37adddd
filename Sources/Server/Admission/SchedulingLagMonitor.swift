import CoreMetrics
import DispatchCore
import NIOCore
import ServiceLifecycle
import Synchronization

/// Measures how late scheduled work runs, on every event loop and on Swift's task executor: the
/// service's queueing delay for CPU, which admission control sheds on.
///
/// Each event loop runs a probe every `interval` and records how late it ran; a task on the global
/// executor sleeps `interval` at a time and records how much longer than that it took to resume. The
/// current lag is the worst sample of the last window (`WindowedMaximum`), so one quiet probe does
/// not hide a busy moment, and the signal falls back within a window once the load does.
final class SchedulingLagMonitor: Service, Sendable {
    /// How often each probe runs.
    let interval: Duration
    private let group: any EventLoopGroup
    private let samples: Mutex<WindowedMaximum>
    private let running = Atomic<Bool>(false)
    private let gauge = Gauge(label: "dispatch_scheduling_lag_seconds")

    /// Creates the monitor.
    /// - Parameters:
    ///   - group: The event loops to probe (the server's).
    ///   - interval: How often each probe runs.
    ///   - window: How long a sample counts.
    init(group: any EventLoopGroup, interval: Duration = .milliseconds(10), window: Duration = .milliseconds(250)) {
        self.group = group
        self.interval = interval
        self.samples = Mutex(WindowedMaximum(window: window))
    }

    /// The worst lag of the last window.
    var current: Duration {
        samples.withLock { $0.maximum(at: .now) }
    }

    func run() async {
        running.store(true, ordering: .relaxed)
        for loop in group.makeIterator() { probe(loop) }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let started = ContinuousClock.now
                do { try await Task.sleep(for: self.interval) } catch { break }
                self.record(ContinuousClock.now - started - self.interval)
            }
        }
        running.store(false, ordering: .relaxed)
    }

    /// Schedules one probe on a loop; each probe schedules the next while the monitor runs.
    private func probe(_ loop: any EventLoop) {
        let deadline = NIODeadline.now() + TimeAmount(interval)
        loop.scheduleTask(deadline: deadline) { [self] in
            record(.nanoseconds((NIODeadline.now() - deadline).nanoseconds))
            if running.load(ordering: .relaxed) { probe(loop) }
        }
    }

    private func record(_ lag: Duration) {
        let now = ContinuousClock.now
        let worst = samples.withLock { samples in
            samples.record(max(lag, .zero), at: now)
            return samples.maximum(at: now)
        }
        gauge.record(worst.timeInterval)
    }
}

/// The largest value recorded within the last `window`, kept in two buckets of half a window each:
/// O(1) per sample, and a sample is forgotten between one half and one whole window after it was
/// recorded.
struct WindowedMaximum: Sendable, Equatable {
    /// How long a sample counts (at least half of it, at most all of it).
    let window: Duration
    private var currentStart: ContinuousClock.Instant?
    private var current: Duration = .zero
    private var previous: Duration = .zero

    /// Creates an empty window.
    init(window: Duration) {
        self.window = window
    }

    /// Records a sample taken at `now`.
    mutating func record(_ value: Duration, at now: ContinuousClock.Instant) {
        roll(to: now)
        current = max(current, value)
    }

    /// The largest sample still counting at `now`.
    func maximum(at now: ContinuousClock.Instant) -> Duration {
        var copy = self
        copy.roll(to: now)
        return max(copy.current, copy.previous)
    }

    private mutating func roll(to now: ContinuousClock.Instant) {
        let half = window / 2
        guard let start = currentStart else {
            currentStart = now
            return
        }
        let elapsed = now - start
        if elapsed >= window {
            previous = .zero
            current = .zero
            currentStart = now
        } else if elapsed >= half {
            previous = current
            current = .zero
            currentStart = start + half
        }
    }
}
