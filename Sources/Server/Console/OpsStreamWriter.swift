import CoreMetrics
import Foundation

/// One viewer's side of the ops stream: a snapshot, then at each frame what changed since the frame the
/// viewer last got (`OpsFeed.update(after:)`).
///
/// Frames are at least `frameInterval` apart, and after a large one the next waits until the viewer's
/// byte budget (`bytesPerSecond`) is paid back; a viewer whose connection is slow gets fewer, larger
/// deltas, never a backlog: what it holds is only the number of the last frame it was sent.
struct OpsStreamWriter {
    let feed: OpsFeed
    /// When the viewer's token expires: the stream ends then.
    var until: Date = .distantFuture

    /// Writes frames until the viewer goes (a write throws), the task is cancelled, the service shuts
    /// down or the viewer's token expires.
    func run(write: (String) async throws -> Void) async throws {
        var sent: Int?
        while !Task.isCancelled, !feed.isClosed, Date() < until {
            // What the console costs, measured where it is spent: building (or sharing) the frame and
            // encoding this viewer's changes, on this thread (no await in between).
            let started = ThreadCPUTime.seconds()
            let update = feed.update(after: sent)
            let text = OpsStreamEncoding.encode(update, feed: feed)
            Self.cpu.increment(by: max(0, ThreadCPUTime.seconds() - started))
            Self.bytes.increment(by: text.utf8.count)
            try await write(text)
            switch update {
            case .snapshot(let map): sent = map.frame.sequence
            case .delta(let frame): sent = frame.sequence
            }
            let paidBack = Duration.seconds(Double(text.utf8.count) / Double(max(1, feed.settings.bytesPerSecond)))
            // In slices of at most a frame interval, so a shutdown is seen within one.
            var wait = max(feed.settings.frameInterval, paidBack)
            while wait > .zero, !feed.isClosed {
                let slice = min(wait, max(feed.settings.frameInterval, .milliseconds(10)))
                try await Task.sleep(for: slice)
                wait -= slice
            }
        }
    }

    /// CPU seconds spent on frames and their encoding (`dispatch_console_cpu_seconds_total`), and
    /// bytes sent to consoles (`dispatch_console_bytes_total`).
    private static let cpu = FloatingPointCounter(label: "dispatch_console_cpu_seconds_total")
    private static let bytes = Counter(label: "dispatch_console_bytes_total")
}
