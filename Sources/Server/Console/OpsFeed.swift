import DequeModule
import DispatchCore
import Foundation
import Geo
import Logging
import ServiceLifecycle
import Synchronization

/// The operators' live view of the region, for `GET /v1/ops/stream` and the console.
///
/// A frame is every driver and unfinished ride as the map draws them (positions rounded to about a
/// metre, so a driver standing still sends nothing) plus the side panel's numbers. Frames are built
/// at most once per `frameInterval` however many consoles watch, and each console is sent only what
/// changed since the frame it last got (`OpsStreamWriter`), so its cost grows with movement, not with
/// the fleet. The panel's numbers are sampled once a second into a two-minute history for sparklines.
final class OpsFeed: Service, Sendable {
    /// How often consoles get a frame, and how many bytes a second each may be sent.
    struct Settings: Sendable, Equatable {
        var frameInterval = Duration.milliseconds(500)
        var bytesPerSecond = 1_000_000
        /// Samples of the panel's numbers kept for sparklines, one a second.
        var historyLength = 120
    }

    /// A position in 1e-5 degrees (about a metre): what the map draws, and what counts as a move.
    struct Point: Hashable, Sendable {
        let latitude: Int32
        let longitude: Int32

        init(_ coordinate: Coordinate) {
            latitude = Int32((coordinate.latitude * 1e5).rounded())
            longitude = Int32((coordinate.longitude * 1e5).rounded())
        }
    }

    /// A driver as the map draws it.
    struct DriverMark: Hashable, Sendable {
        let position: Point
        let state: State
        let rideID: RideID?

        /// What the dot's colour says.
        enum State: String, Sendable {
            case available, stale, offline, offered
            case enRoute = "en_route"
            case onTrip = "on_trip"
        }
    }

    /// An unfinished ride as the map draws it.
    struct RideMark: Hashable, Sendable {
        let status: RideStatus
        let pickup: Point
        let dropoff: Point
        /// The search radius in metres, while the ride searches (0 once a driver has accepted).
        let searchRadius: Int
        let driverID: DriverID?
    }

    /// The side panel's numbers at one moment.
    struct Stats: Sendable, Equatable {
        var at = Date(timeIntervalSince1970: 0)
        var drivers = DriverCounts()
        var openRides = 0
        var searching = 0
        var totals = OpsRecorder.Totals()
        /// Over the last minute (or since start-up, when that is shorter).
        var perMinute = OpsRecorder.Totals()
        /// Request to first offer, seconds, over the last minute.
        var matchLatency: [Double]?
        /// The database write queue and commit latency (nil in memory).
        var store: Store?
        var leadership = LeadershipView(role: "leader", pod: "", region: "", epoch: 0)

        struct Store: Sendable, Equatable {
            var queuedEvents: Int
            var available: Bool
            /// Commit seconds over the last minute, p50 and p99.
            var commitLatency: [Double]?
        }

        struct LeadershipView: Sendable, Equatable {
            var role: String
            var pod: String
            var region: String
            var epoch: Int64
        }
    }

    /// One frame: what every console converges to.
    struct Frame: Sendable {
        let sequence: Int
        let at: Date
        let drivers: [DriverID: DriverMark]
        let rides: [RideID: RideMark]
        let stats: Stats
    }

    private struct State {
        var frame: Frame?
        var builtAt: ContinuousClock.Instant?
        var sequence = 0
        var history: Deque<Stats> = []
    }

    let settings: Settings
    let recorder: OpsRecorder
    /// The configured service area, drawn as the map's outline.
    let serviceArea: ServiceArea?
    let freshness: Duration
    private let dispatcher: Dispatcher
    private let writer: RideWriter?
    private let leadership: Leadership
    private let identity: (pod: String, region: String)
    private let state = Mutex(State())
    private let closed = Atomic(false)
    /// Held while a frame is built, so that concurrent viewers build it once.
    private let building = Mutex(())
    private let clock = ContinuousClock()

    init(
        dispatcher: Dispatcher,
        recorder: OpsRecorder,
        writer: RideWriter?,
        leadership: Leadership,
        identity: (pod: String, region: String),
        settings: Settings = Settings()
    ) {
        self.dispatcher = dispatcher
        self.recorder = recorder
        self.writer = writer
        self.leadership = leadership
        self.identity = identity
        self.settings = settings
        self.serviceArea = dispatcher.configuration.serviceArea
        self.freshness = dispatcher.configuration.driverFreshness
    }

    /// Samples the panel's numbers once a second, for the sparklines.
    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                self.sample()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        close()
    }

    /// Ends every console's stream (each within a frame interval), as the service shuts down: called
    /// after the shutdown delay (`ShutdownDelayService`), so the server's drain does not wait for them.
    func close() { closed.store(true, ordering: .relaxed) }

    /// Whether the service is shutting down: streams end.
    var isClosed: Bool { closed.load(ordering: .relaxed) }

    /// The last `historyLength` samples, oldest first.
    var history: [Stats] { state.withLock { Array($0.history) } }

    /// Takes one sample of the panel's numbers into the history, and returns it.
    @discardableResult
    func sample() -> Stats {
        let snapshot = dispatcher.snapshot()
        let totals = recorder.totals
        let latency = recorder.matchLatency.quantiles([0.5, 0.99])
        let (role, epoch): (String, Int64) =
            switch leadership.role {
            case .leader(let epoch): ("leader", epoch)
            case .standby: ("standby", 0)
            case .deposed: ("deposed", 0)
            }
        let store = writer.map {
            Stats.Store(
                queuedEvents: $0.queuedEvents,
                available: $0.isAvailable,
                commitLatency: $0.recentCommits.quantiles([0.5, 0.99])
            )
        }
        return state.withLock { state in
            var stats = Stats(
                at: Date(),
                drivers: snapshot.drivers,
                openRides: snapshot.ridesOpen,
                searching: snapshot.ridesSearching,
                totals: totals,
                matchLatency: latency,
                store: store,
                leadership: .init(
                    role: role,
                    pod: identity.pod,
                    region: identity.region,
                    epoch: epoch
                )
            )
            // The last minute: against the sample 60 s back, or the oldest when the history is shorter.
            let baseline = state.history.last { stats.at.timeIntervalSince($0.at) >= 59.5 } ?? state.history.first
            stats.perMinute = Self.difference(totals, baseline?.totals ?? OpsRecorder.Totals())
            state.history.append(stats)
            while state.history.count > settings.historyLength { state.history.removeFirst() }
            return stats
        }
    }

    private static func difference(_ now: OpsRecorder.Totals, _ then: OpsRecorder.Totals) -> OpsRecorder.Totals {
        OpsRecorder.Totals(
            requested: now.requested - then.requested,
            accepted: now.accepted - then.accepted,
            declined: now.declined - then.declined,
            expired: now.expired - then.expired,
            withdrawn: now.withdrawn - then.withdrawn,
            completed: now.completed - then.completed,
            cancelled: now.cancelled - then.cancelled,
            unfulfilled: now.unfulfilled - then.unfulfilled
        )
    }

    /// The current frame: the one built within the last half interval, or a new one. One viewer
    /// builds at a time; those that come meanwhile wait for it and share its frame.
    func frame() -> Frame {
        building.withLock { _ in
            let now = clock.now
            if let cached = state.withLock({ state -> Frame? in
                guard let builtAt = state.builtAt, now - builtAt < settings.frameInterval / 2 else { return nil }
                return state.frame
            }) {
                return cached
            }
            return build(at: now)
        }
    }

    private func build(at now: ContinuousClock.Instant) -> Frame {
        let view = dispatcher.cityView()
        var drivers: [DriverID: DriverMark] = [:]
        drivers.reserveCapacity(view.drivers.count)
        for (id, driver) in view.drivers {
            drivers[id] = Self.mark(driver, stale: view.isStale(driver))
        }
        var rides: [RideID: RideMark] = [:]
        for (id, ride) in view.rides where !ride.status.isFinal {
            rides[id] = RideMark(
                status: ride.status,
                pickup: Point(ride.pickup),
                dropoff: Point(ride.dropoff),
                searchRadius: ride.status == .requested || ride.status == .offered ? Int(ride.search.radius.value) : 0,
                driverID: ride.heldBy
            )
        }
        let latest = state.withLock { $0.history.last }
        let stats = latest ?? sample()
        return state.withLock { state in
            state.sequence += 1
            let frame = Frame(sequence: state.sequence, at: view.at, drivers: drivers, rides: rides, stats: stats)
            state.frame = frame
            state.builtAt = now
            return frame
        }
    }

    static func mark(_ driver: Driver, stale: Bool) -> DriverMark {
        let state: DriverMark.State =
            switch driver.status {
            case .available: stale ? .stale : .available
            case .offline: .offline
            case .offered: .offered
            case .enRoute: .enRoute
            case .onTrip: .onTrip
            }
        return DriverMark(position: Point(driver.location), state: state, rideID: driver.rideID)
    }
}
