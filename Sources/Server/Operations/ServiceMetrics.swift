import CoreMetrics
import DispatchCore
import Foundation
import Geo
import Metrics
import Prometheus
import Synchronization

/// The service's own metrics, created once so recording is a single atomic add.
///
/// Names follow Prometheus conventions (`_total` counters, base units). HTTP request metrics come from
/// Hummingbird's `MetricsMiddleware`, renamed by `PrometheusMetricsFactory.dispatchService`. Dispatch
/// metrics are derived from domain events (`EventMetrics`) and from state on each scrape.
struct ServiceMetrics: Sendable {
    /// 1, labelled with the version: which build each pod runs.
    let buildInfo = Gauge(label: "dispatch_build_info", dimensions: [("version", BuildInfo.version)])
    let locationUpdatesApplied = Counter(label: "dispatch_location_updates_total", dimensions: [("outcome", "applied")])
    let locationUpdatesIgnored = Counter(
        label: "dispatch_location_updates_total",
        dimensions: [("outcome", "ignored_out_of_order")]
    )
    let locationUpdatesDropped = Counter(
        label: "dispatch_location_updates_total",
        dimensions: [("outcome", "dropped_stale")]
    )
    let driversExpired = Counter(label: "dispatch_drivers_expired_total")
    let driversForgotten = Counter(label: "dispatch_drivers_forgotten_total")
    /// How many drivers the counter above has been told of.
    private let forgottenReported = ReportedTotal()
    let indexMemoryBytes = Gauge(label: "dispatch_index_memory_bytes")
    let ridesSearching = Gauge(label: "dispatch_rides_searching")
    let ridesInMemory = Gauge(label: "dispatch_rides_in_memory")
    let eventStreams = Gauge(label: "dispatch_event_streams")
    /// 1 while dispatch is paused because commands cannot be made durable.
    let paused = Gauge(label: "dispatch_paused")

    /// Records the gauges from the dispatcher's current state; called on every scrape. Every figure is
    /// kept as it changes: nothing here walks the drivers or rides.
    func recordState(of dispatcher: Dispatcher, streams: StreamLimits, limits: CapacityLimits) {
        buildInfo.record(1)
        let snapshot = dispatcher.snapshot()
        driversForgotten.increment(by: forgottenReported.advance(to: snapshot.driversForgotten))
        for (resource, used, limit) in [
            ("drivers", snapshot.driversKnown, limits.drivers), ("open_rides", snapshot.ridesOpen, limits.openRides),
            ("streams", streams.openCount, limits.streams),
        ] {
            Gauge(label: "dispatch_capacity_used", dimensions: [("resource", resource)]).record(used)
            Gauge(label: "dispatch_capacity_limit", dimensions: [("resource", resource)]).record(limit)
        }
        let counts = snapshot.drivers
        for (status, count) in [
            ("available", counts.available), ("stale", counts.stale), ("offline", counts.offline),
            ("offered", counts.offered), ("en_route", counts.enRoute), ("on_trip", counts.onTrip),
        ] {
            Gauge(label: "dispatch_drivers", dimensions: [("status", status)]).record(count)
        }
        ridesSearching.record(snapshot.ridesSearching)
        ridesInMemory.record(snapshot.ridesInMemory)
        indexMemoryBytes.record(snapshot.indexMemoryBytes)
        eventStreams.record(streams.openCount)
        paused.record(dispatcher.isPaused ? 1 : 0)
    }
}

/// The ceilings `dispatch_capacity_limit` reports.
struct CapacityLimits: Sendable {
    let drivers: Int
    let openRides: Int
    let streams: Int
}

/// A running total already reported to a counter: the part not yet reported, once.
private final class ReportedTotal: Sendable {
    private let reported = Mutex(0)

    /// The increase since the last call.
    func advance(to total: Int) -> Int {
        reported.withLock { reported in
            defer { reported = max(reported, total) }
            return max(0, total - reported)
        }
    }
}

/// Dispatch metrics derived from domain events: match latency, pickup distance, offers by outcome,
/// rides by final state. An event sink, so it runs under the dispatcher's lock: recording only.
final class EventMetrics: DispatchEventSink {
    private struct Pending {
        /// Rides waiting for their first offer, with when they were requested (seconds since 1970).
        var requestedAt: [RideID: Double] = [:]
        /// Rides with an open offer, to tell a withdrawn offer from a cancelled assignment.
        var openOffers: Set<RideID> = []
    }

    private let pending = Mutex(Pending())
    private let matchLatency = Timer(label: "dispatch_match_latency_seconds", preferredDisplayUnit: .seconds)
    private let pickupDistance = Recorder(label: "dispatch_pickup_distance_meters", aggregate: true)
    private let requests = Counter(label: "dispatch_ride_requests_total")
    private let offers = Dictionary(
        uniqueKeysWithValues: ["accepted", "declined", "expired", "withdrawn"].map {
            ($0, Counter(label: "dispatch_offers_total", dimensions: [("outcome", $0)]))
        }
    )
    private let rides = Dictionary(
        uniqueKeysWithValues: [RideStatus.completed, .cancelled, .unfulfilled].map {
            ($0, Counter(label: "dispatch_rides_total", dimensions: [("final_state", $0.rawValue)]))
        }
    )

    /// What the watchdogs did, by reason: assignments lapsed (`pickup_overdue`, `driver_lost`) and
    /// trips the service completed (`trip_time_limit`).
    private let lapsed = Dictionary(
        uniqueKeysWithValues: RideEvent.Reason.allCases.map {
            ($0.rawValue, Counter(label: "dispatch_watchdog_total", dimensions: [("reason", $0.rawValue)]))
        }
    )

    func publish(_ batch: EventBatch) -> PublishReceipt? {
        pending.withLock { pending in
            for event in batch.events { record(event, &pending) }
        }
        return nil
    }

    private func record(_ event: RideEvent, _ pending: inout Pending) {
        switch event.kind {
        case .rideRequested:
            requests.increment()
            pending.requestedAt[event.rideID] = event.at.timeIntervalSince1970
        case .rideOffered:
            pending.openOffers.insert(event.rideID)
            if let requested = pending.requestedAt.removeValue(forKey: event.rideID) {
                let seconds = max(0, event.at.timeIntervalSince1970 - requested)
                matchLatency.recordNanoseconds(Int64(seconds * 1e9))
            }
        case .rideAccepted:
            pending.openOffers.remove(event.rideID)
            offers["accepted"]?.increment()
            if let distance = event.pickupDistance { pickupDistance.record(distance.value) }
        case .offerDeclined:
            pending.openOffers.remove(event.rideID)
            offers["declined"]?.increment()
        case .offerExpired:
            pending.openOffers.remove(event.rideID)
            offers["expired"]?.increment()
        case .rideCancelled:
            if pending.openOffers.remove(event.rideID) != nil { offers["withdrawn"]?.increment() }
            pending.requestedAt[event.rideID] = nil
            rides[.cancelled]?.increment()
        case .rideUnfulfilled:
            pending.requestedAt[event.rideID] = nil
            rides[.unfulfilled]?.increment()
        case .rideCompleted:
            rides[.completed]?.increment()
            if event.operatorID == nil, let reason = event.reason { lapsed[reason]?.increment() }
        case .searchResumed:
            pending.openOffers.remove(event.rideID)
        case .assignmentLapsed:
            lapsed[event.reason ?? "unknown"]?.increment()
        case .searchWidened, .driverArrived, .tripStarted, .driverCancelled:
            break
        }
    }
}

/// Hands each command's events to several sinks, in order; the receipt is the first sink's that
/// gives one (the store's).
struct EventFanOut: DispatchEventSink {
    let sinks: [any DispatchEventSink]

    func publish(_ batch: EventBatch) -> PublishReceipt? {
        var receipt: PublishReceipt?
        for sink in sinks {
            let given = sink.publish(batch)
            if receipt == nil { receipt = given }
        }
        return receipt
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
        // What durable-before-visible costs: 1 ms steps up to 30 ms, where the offer path's bar (20 ms
        // added at p99) is judged.
        factory.durationHistogramBuckets["dispatch_outbox_delay_seconds"] =
            [.microseconds(500)] + (1...30).map { .milliseconds($0) } + [
                .milliseconds(40), .milliseconds(50), .milliseconds(75), .milliseconds(100), .milliseconds(250),
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
            ]
        factory.valueHistogramBuckets["dispatch_pickup_distance_meters"] = [
            100, 250, 500, 750, 1_000, 1_500, 2_000, 3_000, 4_000, 5_000, 7_500, 10_000,
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
