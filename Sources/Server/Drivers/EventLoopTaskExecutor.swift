import NIOCore

/// A Swift concurrency task executor that runs jobs on one SwiftNIO event loop.
///
/// A driver channel is served by a task, and by default that task runs on Swift's global pool while
/// its socket belongs to an event loop thread: every message read and every answer written then hops
/// between the two pools, which on this machine kind cost more than the message (docs/BENCHMARKS.md).
/// Preferring the connection's own event loop as the task's executor (SE-0417) keeps the channel on
/// the thread that owns its socket. (For plain HTTP requests the same change measured slower: see
/// docs/BENCHMARKS.md; those are answered at the edge instead.)
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    /// The loop jobs run on.
    let eventLoop: any EventLoop

    /// Creates an executor for a loop.
    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
