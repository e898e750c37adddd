import Foundation

/// Everything one load-test run does: the city, the drivers, the riders and how long.
///
/// Scenarios are JSON files under `loadtest/scenarios/`; a field a file leaves out takes the default
/// below, and any field can be overridden from the command line (`--request-rate 50`, see
/// `ScenarioLoader`). Durations are in real seconds unless the name says otherwise.
public struct Scenario: Codable, Equatable, Sendable {
    /// A rectangle of latitude and longitude: the service area.
    public struct Region: Codable, Equatable, Sendable {
        public var minLat: Double
        public var maxLat: Double
        public var minLng: Double
        public var maxLng: Double

        public init(minLat: Double, maxLat: Double, minLng: Double, maxLng: Double) {
            self.minLat = minLat
            self.maxLat = maxLat
            self.minLng = minLng
            self.maxLng = maxLng
        }
    }

    /// A share of the fleet whose tokens name a cohort (a fleet, a franchise), for the fairness figures.
    public struct Cohort: Codable, Equatable, Sendable {
        public var name: String
        /// The share of drivers in it, 0…1; the shares of all cohorts add up to at most 1, and the
        /// drivers left over carry no cohort.
        public var share: Double

        public init(name: String, share: Double) {
            self.name = name
            self.share = share
        }
    }

    /// A place where demand concentrates (a station, a nightlife district).
    public struct Hotspot: Codable, Equatable, Sendable {
        public var name: String
        public var lat: Double
        public var lng: Double
        public var radiusMeters: Double
        /// Relative share of the hotspot pickups.
        public var weight: Double

        public init(name: String, lat: Double, lng: Double, radiusMeters: Double, weight: Double) {
            self.name = name
            self.lat = lat
            self.lng = lng
            self.radiusMeters = radiusMeters
            self.weight = weight
        }
    }

    public var name = "custom"
    public var description = ""
    /// Seeds every random choice, so two runs of one scenario make the same city and the same requests.
    public var seed: UInt64 = 1

    // MARK: Timing
    /// How long riders request rides (after the warm-up).
    public var durationSeconds = 60.0
    /// Drivers go online and report for this long before the first request.
    public var warmupSeconds = 5.0
    /// After the last request, how long to wait for rides in flight to finish.
    public var drainSeconds = 60.0

    // MARK: The city
    public var region = Region(minLat: 37.42, maxLat: 37.70, minLng: 126.76, maxLng: 127.18)
    public var hotspots: [Hotspot] = Scenario.seoulHotspots
    /// Share of pickups drawn from the hotspots; the rest fall anywhere in the region.
    public var hotspotShare = 0.5
    /// A road graph file (roads/README.md), relative to the working directory: drivers start, and
    /// pickups and drop-offs fall, on its roads (the node nearest to where they would have been).
    /// Drivers still drive in straight lines between them. The server needs the same file as
    /// `ROAD_GRAPH` to rank by road (`loadtest/run` passes it).
    public var roadGraph: String?

    // MARK: Drivers
    public var drivers = 200
    /// Drivers report their location this often, as driver apps do.
    public var locationIntervalSeconds = 4.0
    /// Driving speed in simulated time.
    public var driverSpeedKmh = 30.0
    /// Simulated time runs this many times faster than real time for driving (to the pickup, the
    /// trip). Reporting intervals, think times and the server's timers stay in real time.
    public var timeCompression = 20.0
    /// How many drivers keep one persistent channel (WebSocket) for everything: reports and commands
    /// up, offers and their rides' events down. The first drivers are these.
    public var driverChannels = 0
    /// How many of the other drivers (at most all of them) listen on their event stream (HTTP); the rest poll
    /// `GET /v1/drivers/{id}/offer`. Every channel and stream holds a connection on both sides, and a
    /// process may have only so many open files.
    public var driverStreams = 4_000
    /// How often a polling driver asks for its offer.
    public var offerPollSeconds = 4.0
    /// Chance that a driver accepts an offer; otherwise it declines or lets the offer expire.
    public var acceptProbability = 0.9
    /// Each driver's own habit: its chance of accepting is drawn once, uniformly within
    /// `acceptProbability` ± this (kept within 0.02...1), so some drivers accept most offers and
    /// some few; 0: every driver the same. The fleet's mean stays `acceptProbability` unless clamped.
    public var acceptProbabilitySpread = 0.0
    /// Driver cohorts named in the drivers' tokens (the server's `DRIVER_COHORTS`); the report gives
    /// offers and trips per driver-hour by cohort. Drawn from a generator of their own.
    public var cohorts: [Cohort]? = nil
    /// Of the offers not accepted, the share declined outright (the rest expire unanswered).
    public var declineShare = 0.7
    /// A driver thinks a uniformly drawn time in this range before it answers an offer.
    public var thinkTimeMinSeconds = 0.5
    public var thinkTimeMaxSeconds = 2.0
    /// Real time between arriving at the pickup and starting the trip.
    public var boardingSeconds = 1.0

    // MARK: Riders
    /// Ride requests per second at the start: a Poisson process (open model).
    public var requestRate = 5.0
    /// When set, the rate grows linearly to this value over the run.
    public var rampToRate: Double?
    /// When set with `stepSeconds`, the rate grows by this much every `stepSeconds` (a staircase):
    /// the `peak` scenario's search for the highest sustainable rate.
    public var stepRate: Double?
    public var stepSeconds: Double?
    /// A burst: `spikeRate` extra requests per second from `spikeAtSeconds` for `spikeSeconds`.
    public var spikeRate: Double?
    public var spikeAtSeconds: Double?
    public var spikeSeconds: Double?
    /// Chance that a rider cancels, at a uniformly drawn time within `cancelWithinSeconds` of its request.
    public var cancelProbability = 0.05
    public var cancelWithinSeconds = 20.0
    /// Trip lengths (straight line), drawn uniformly.
    public var tripMinMeters = 1_000.0
    public var tripMaxMeters = 8_000.0

    // MARK: Objectives and the client
    /// The p99 match latency the `peak` search holds each step to.
    public var objectiveP99MatchMs = 100.0
    /// Connections for location updates and offer polls, and the most connections each pool of calls
    /// (riders' requests, drivers' commands) may open; streams have a pool of their own.
    public var httpConnections = 64
    /// A label for the server's matching mode in reports (`greedy`, `batch`); read from the server's
    /// offers when left empty.
    public var matching = ""

    public init() {}

    /// Demand hotspots of Seoul: stations, business and nightlife districts.
    public static let seoulHotspots: [Hotspot] = [
        Hotspot(name: "Gangnam Station", lat: 37.4979, lng: 127.0276, radiusMeters: 1_200, weight: 3),
        Hotspot(name: "Seoul Station", lat: 37.5547, lng: 126.9707, radiusMeters: 1_000, weight: 2),
        Hotspot(name: "Hongdae", lat: 37.5563, lng: 126.9236, radiusMeters: 1_000, weight: 2),
        Hotspot(name: "Jamsil", lat: 37.5133, lng: 127.1001, radiusMeters: 1_200, weight: 1.5),
        Hotspot(name: "Yeouido", lat: 37.5219, lng: 126.9245, radiusMeters: 1_000, weight: 1.5),
        Hotspot(name: "Itaewon", lat: 37.5345, lng: 126.9946, radiusMeters: 800, weight: 1),
    ]

    /// The request rate at `time` seconds after the first request.
    public var rateProfile: RateProfile {
        RateProfile(
            base: requestRate,
            rampTo: rampToRate,
            over: durationSeconds,
            step: stepRate.flatMap { rate in stepSeconds.map { (rate, $0) } },
            spike: spikeRate.flatMap { rate in
                spikeAtSeconds.flatMap { at in spikeSeconds.map { (rate, at, $0) } }
            }
        )
    }
}
