import Histogram

/// The counts a run keeps.
public enum Counter: String, CaseIterable, Codable, Sendable {
    case requested, acknowledged, matched, accepted, completed
    case cancelledByRider, unfulfilled
    case offersSeen, offersDeclined, offersIgnored
    case locationUpdates, offerPolls, streamReconnects
    /// Requests the service refused up front with `Retry-After` (`503 overloaded`, or
    /// `503 database_unavailable` during an outage): cheaply, by design, nothing done.
    case shed
    /// Calls that waited in the generator for a free connection of their pool, or behind a full
    /// pipeline: time the generator, not the service, held them.
    case generatorWaits
    case channelReconnects
    /// Calls sent again after no answer or a `503`, by a run that retries through failovers.
    case retried
}

/// Every measurement of a run: latency histograms, counts, errors by kind, and a per-second timeline.
///
/// Latencies are attributed to the second their request was *scheduled*, so a plot over time shows
/// what riders asking then waited, and a stalled server shows up as a rise, not a gap.
public struct Recorder: Sendable {
    /// One second of the run.
    public struct Second: Sendable {
        public var requested = 0
        public var matched = 0
        public var locationUpdates = 0
        public var errors = 0
        public var match = Measure.latency(digits: .two)
        /// Match latency of the rides offered at once (see `matchAtOnce`).
        public var matchAtOnce = Measure.latency(digits: .two)
        public var location = Measure.latency(digits: .two)
    }

    public private(set) var match = Measure.latency()
    /// Match latency of the rides the server offered at once, by their first search (a driver was free
    /// when they asked): the server's own responsiveness. The others waited for a driver to free up
    /// (supply, not speed).
    public private(set) var matchAtOnce = Measure.latency()
    public private(set) var accept = Measure.latency()
    public private(set) var location = Measure.latency()
    /// How late the client sent requests against their schedule: its own overload, shown apart.
    public private(set) var schedulerLag = Measure.latency()
    /// How late the fleet's ticker woke against its schedule: the generator's own CPU starvation.
    public private(set) var tickLag = Measure.latency()
    /// Shed requests by endpoint.
    public private(set) var shed: [String: Int] = [:]
    public private(set) var pickupDistance = Measure.quantity()
    /// The accepted drivers' times to their pickups as the server estimated them, in seconds (read back
    /// at the end: by road when the server has a road graph, whatever it ranks by).
    public private(set) var pickupETA = Measure.quantity()
    public private(set) var endpoints: [String: Measure] = [:]
    public private(set) var counters: [Counter: Int] = [:]
    /// Errors by kind (`POST /v1/rides 503`, `transport: connection refused`, ...).
    public private(set) var errors: [String: Int] = [:]
    /// Conflicts the protocol expects under races (`409` on accepting an offer the rider just cancelled).
    public private(set) var conflicts: [String: Int] = [:]
    public private(set) var timeline: [Second] = []

    public init() {}

    public mutating func count(_ counter: Counter, _ amount: Int = 1) {
        counters[counter, default: 0] += amount
    }

    public func value(_ counter: Counter) -> Int { counters[counter] ?? 0 }

    public var errorCount: Int { errors.values.reduce(0, +) }

    /// A rider's request went out at `second` of the run.
    public mutating func requested(at second: Double) {
        count(.requested)
        let index = bucket(second)
        timeline[index].requested += 1
    }

    public mutating func lagged(_ seconds: Double) {
        schedulerLag.record(seconds: seconds)
    }

    /// The fleet's ticker woke `seconds` after it was due.
    public mutating func tickLagged(_ seconds: Double) {
        tickLag.record(seconds: Swift.max(0, seconds))
    }

    /// The service shed a request to `endpoint`.
    public mutating func shed(_ endpoint: String) {
        count(.shed)
        shed[endpoint, default: 0] += 1
    }

    /// The rider saw its first offer `latency` seconds after the request was scheduled at `second`.
    /// - Parameter atOnce: The server offered the ride when it was requested (no wait for a driver).
    public mutating func matched(requestedAt second: Double, latency: Double, atOnce: Bool = true) {
        count(.matched)
        match.record(seconds: latency)
        let index = bucket(second)
        timeline[index].matched += 1
        timeline[index].match.record(seconds: latency)
        if atOnce {
            matchAtOnce.record(seconds: latency)
            timeline[index].matchAtOnce.record(seconds: latency)
        }
    }

    public mutating func accepted(latency: Double, pickupMeters: Double?) {
        count(.accepted)
        accept.record(seconds: latency)
        if let pickupMeters { pickupDistance.record(pickupMeters) }
    }

    public mutating func pickupETA(seconds: Double) {
        pickupETA.record(seconds)
    }

    public mutating func locationUpdated(at second: Double, latency: Double) {
        count(.locationUpdates)
        guard second >= 0 else { return }  // the warm-up, before the first request: not measured
        location.record(seconds: latency)
        let index = bucket(second)
        timeline[index].locationUpdates += 1
        timeline[index].location.record(seconds: latency)
    }

    /// One HTTP call's latency, by endpoint (`POST /v1/rides`).
    public mutating func call(_ endpoint: String, latency: Double) {
        endpoints[endpoint, default: .latency()].record(seconds: latency)
    }

    public mutating func error(_ kind: String, at second: Double) {
        errors[kind, default: 0] += 1
        guard second >= 0 else { return }
        let index = bucket(second)
        timeline[index].errors += 1
    }

    public mutating func conflict(_ kind: String) {
        conflicts[kind, default: 0] += 1
    }

    /// The index in `timeline` of the run's second that `time` falls in, created on first use (so a
    /// second is changed in place, not copied with its histogram).
    private mutating func bucket(_ time: Double) -> Int {
        let index = Swift.max(Int(time.rounded(.down)), 0)
        while timeline.count <= index { timeline.append(Second()) }
        return index
    }
}
