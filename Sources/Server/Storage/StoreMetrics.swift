import CoreMetrics
import Metrics

/// The ride writer's metrics: its queue, commits, refusals and the commands waiting on it
/// (`docs/RELIABILITY.md` lists the alerts built on them).
struct StoreMetrics: Sendable {
    let fencedBatches = Counter(label: "dispatch_store_fenced_total")
    let queueDepth = Gauge(label: "dispatch_store_queue_events")
    let batchEvents = Recorder(label: "dispatch_store_batch_events", aggregate: true)
    let commitDuration = Timer(label: "dispatch_store_commit_seconds", preferredDisplayUnit: .seconds)
    let errors = Counter(label: "dispatch_store_errors_total")
    let deadLetters = Counter(label: "dispatch_store_dead_letters_total")
    /// What durable-before-visible costs: from an entry's events being made to their being shown,
    /// for entries with an offer (what a driver waits for) and for the rest (riders' updates).
    let offerDelay = Timer(
        label: "dispatch_outbox_delay_seconds",
        dimensions: [("path", "offer")],
        preferredDisplayUnit: .seconds
    )
    let updateDelay = Timer(
        label: "dispatch_outbox_delay_seconds",
        dimensions: [("path", "update")],
        preferredDisplayUnit: .seconds
    )
    let available = Gauge(label: "dispatch_store_available")
    let commitWait = Timer(label: "dispatch_command_commit_wait_seconds", preferredDisplayUnit: .seconds)
    let waiting = Gauge(label: "dispatch_commands_waiting")
    let oldestWaitGauge = Gauge(label: "dispatch_commands_oldest_wait_seconds")
}
