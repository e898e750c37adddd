import CoreMetrics
import DispatchCore
import Metrics
import Prometheus

/// The service's own metrics, created once so recording is a single atomic add.
///
/// Names follow Prometheus conventions (`_total` counters, base units). HTTP request metrics come from
/// Hummingbird's `MetricsMiddleware`, renamed by `PrometheusMetricsFactory.dispatchService`.
struct ServiceMetrics: Sendable {
    let locationUpdatesApplied = Counter(label: "dispatch_location_updates_total", dimensions: [("outcome", "applied")])
    let locationUpdatesIgnored = Counter(
        label: "dispatch_location_updates_total",
        dimensions: [("outcome", "ignored_out_of_order")]
    )
    let driversExpired = Counter(label: "dispatch_drivers_expired_total")
    let driversAvailable = Gauge(label: "dispatch_drivers", dimensions: [("status", "available")])
    let driversStale = Gauge(label: "dispatch_drivers", dimensions: [("status", "stale")])
    let driversOffline = Gauge(label: "dispatch_drivers", dimensions: [("status", "offline")])
    let indexMemoryBytes = Gauge(label: "dispatch_index_memory_bytes")

    /// Records the fleet gauges from the dispatcher's current state; called on every scrape.
    func recordFleet(of dispatcher: Dispatcher) {
        let snapshot = dispatcher.fleetSnapshot()
        driversAvailable.record(snapshot.counts.available)
        driversStale.record(snapshot.counts.stale)
        driversOffline.record(snapshot.counts.offline)
        indexMemoryBytes.record(snapshot.indexMemoryBytes)
    }
}

extension PrometheusMetricsFactory {
    /// The factory `dispatch-server` bootstraps: Hummingbird's metric names mapped to Prometheus
    /// conventions, and latency buckets fine enough for sub-millisecond requests.
    static func dispatchService(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
        ]
        factory.nameAndLabelSanitizer = { name, labels in
            let renamed =
                switch name {
                case "hb.requests": "http_server_requests_total"
                case "hb.request.errors": "http_server_request_errors_total"
                case "http.server.request.duration": "http_server_request_duration_seconds"
                default: name
                }
            return (
                renamed.replacingDots(),
                labels.map { ($0.0.replacingDots(), $0.1) }
            )
        }
        return factory
    }
}

extension String {
    fileprivate func replacingDots() -> String {
        String(map { $0 == "." ? "_" : $0 })
    }
}
