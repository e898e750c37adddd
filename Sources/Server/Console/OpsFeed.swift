import DequeModule
import DispatchCore
import Foundation
import Geo
import Logging
import ServiceLifecycle
import Synchronization

/// The operators' live view of the region, for `GET /v1/ops/stream` and the console.
///
/// The feed keeps the map: every driver and unfinished ride as the console draws them (positions
/// rounded to about a metre, so a driver standing still changes nothing). It follows the dispatcher by
/// what changed (`Dispatcher.cityChanges(since:)`, from the dispatcher's change journals), so a frame
/// costs what moved since the last one, not the fleet. Frames are built at most once per half
/// `frameInterval` however many consoles watch; each records what changed on the map, and the last few
/// are kept, so a console is sent the changes of the frames since the one it has (`update(after:)`),
/// or the whole map when it has none or fell too far behind. The panel's numbers are sampled once a
/// second into a two-minute history for sparklines.
final class OpsFeed: Service, Sendable {
    /// How often consoles get a frame, and how many bytes a second each may be sent.
    struct Settings: Sendable, Equatable {
        var frameInterval = Duration.milliseconds(500)
        var bytesPerSecond = 1_000_000
        /// Samples of the panel's numbers kept for sparklines, one a second.
        var historyLength = 120
        /// Frames kept for viewers that fell behind (a slow connection, a large frame): one further
        /// behind is sent a snapshot. At most `framesKept` frames naming at most `changesKept` drivers
        /// and rides together.
        var framesKept = 64
        var changesKept = 250_000
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

    /// What changed on the map between two frames: drivers and rides that appeared or changed, as they
    /// are at the later one, and those gone. An ID is in at most one of a kind's two.
    struct Changes: Sendable, Equatable {
        var drivers: [DriverID: DriverMark] = [:]
        var driversGone: Set<DriverID> = []
        var rides: [RideID: RideMark] = [:]
        var ridesGone: Set<RideID> = []

        var isEmpty: Bool { drivers.isEmpty && driversGone.isEmpty && rides.isEmpty && ridesGone.isEmpty }
        /// How many drivers and rides it names.
        var count: Int { drivers.count + driversGone.count + rides.count + ridesGone.count }

        /// Takes in what changed after these: the later changes win.
        mutating func merge(_ later: Changes) {
            Self.merge(later.drivers, later.driversGone, into: &drivers, &driversGone)
            Self.merge(later.rides, later.ridesGone, into: &rides, &ridesGone)
        }

        private static func merge<ID: Hashable, Mark>(
            _ marks: [ID: Mark],
            _ gone: Set<ID>,
            into current: inout [ID: Mark],
            _ currentGone: inout Set<ID>
        ) {
            for (id, mark) in marks {
                current[id] = mark
                currentGone.remove(id)
            }
            for id in gone {
                current[id] = nil
                currentGone.insert(id)
            }
        }
    }

    /// One frame: what changed on the map since the frame before it, and the panel's numbers.
    struct Frame: Sendable {
        let sequence: Int
        let at: Date
        let changes: Changes
        let stats: Stats
    }

    /// The whole map at one frame: what a console starts from.
    struct Map: Sendable {
        let frame: Frame
        let drivers: [DriverID: DriverMark]
        let rides: [RideID: RideMark]
    }

    /// What a viewer is sent next: the whole map, or what changed since the frame it has (a frame whose
    /// changes are those of every frame since, merged).
    enum Update: Sendable {
        case snapshot(Map)
        case delta(Frame)
    }

    private struct State {
        var history: Deque<Stats> = []
        var builtAt: ContinuousClock.Instant?
        /// The map as of the last frame, kept up to date from the dispatcher's changes.
        var drivers: [DriverID: DriverMark] = [:]
        var rides: [RideID: RideMark] = [:]
        /// Where the map is in the dispatcher's journals.
        var position: CityChanges.Position?
        /// The last frames, oldest first (consecutive sequences), for viewers a few frames behind.
        var frames: Deque<Frame> = []
        /// How many drivers and rides `frames` name together.
        var framedChanges = 0
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

    /// What a viewer that has frame `sequence` (nil: none yet) is sent next, after bringing the frames
    /// up to date: a delta when the frames since are still held, else a snapshot.
    func update(after sequence: Int?) -> Update {
        let latest = frame()
        enum Held {
            case frames([Frame])
            case map(Map)
        }
        let held = state.withLock { state -> Held in
            guard let sequence, let oldest = state.frames.first, sequence >= oldest.sequence - 1 else {
                // The frames and the map move together: the map is as of the last frame.
                return .map(Map(frame: state.frames.last ?? latest, drivers: state.drivers, rides: state.rides))
            }
            return .frames(Array(state.frames.drop { $0.sequence <= sequence }))
        }
        switch held {
        case .map(let map):
            return .snapshot(map)
        case .frames(let frames):
            guard let last = frames.last else {
                // Nothing new since the viewer's frame: its numbers, at its sequence.
                return .delta(Frame(sequence: latest.sequence, at: latest.at, changes: Changes(), stats: latest.stats))
            }
            var changes = Changes()
            if frames.count == 1 {
                changes = last.changes
            } else {
                for frame in frames { changes.merge(frame.changes) }
            }
            return .delta(Frame(sequence: last.sequence, at: last.at, changes: changes, stats: last.stats))
        }
    }

    /// The latest frame: the one built within the last half interval, or a new one. One viewer builds at
    /// a time; those that come meanwhile wait for it and share its frame.
    func frame() -> Frame {
        building.withLock { _ in
            let now = clock.now
            if let cached = state.withLock({ state -> Frame? in
                guard let builtAt = state.builtAt, now - builtAt < settings.frameInterval / 2 else { return nil }
                return state.frames.last
            }) {
                return cached
            }
            return build(at: now)
        }
    }

    /// Brings the map up to date from what changed in the dispatcher since the last frame, and records
    /// the difference as a new frame. O(changes), except when the dispatcher's journals no longer reach
    /// back (no console watched for a while): then the whole city is compared.
    private func build(at now: ContinuousClock.Instant) -> Frame {
        let position = state.withLock { $0.position }
        let city = dispatcher.cityChanges(since: position)
        let latest = state.withLock { $0.history.last }
        let stats = latest ?? sample()
        return state.withLock { state in
            let changes = city.isComplete ? Self.replace(&state, with: city) : Self.apply(city, to: &state)
            state.position = city.position
            let frame = Frame(
                sequence: (state.frames.last?.sequence ?? 0) + 1,
                at: city.at,
                changes: changes,
                stats: stats
            )
            state.frames.append(frame)
            state.framedChanges += changes.count
            while state.frames.count > 1,
                state.frames.count > settings.framesKept || state.framedChanges > settings.changesKept
            {
                state.framedChanges -= state.frames.removeFirst().changes.count
            }
            state.builtAt = now
            return frame
        }
    }

    /// Applies what changed to the map: O(changes).
    private static func apply(_ city: CityChanges, to state: inout State) -> Changes {
        var changes = Changes()
        for driver in city.drivers {
            let mark = Self.mark(driver, stale: city.isStale(driver))
            if state.drivers.updateValue(mark, forKey: driver.id) != mark { changes.drivers[driver.id] = mark }
        }
        for id in city.driversGone where state.drivers.removeValue(forKey: id) != nil {
            changes.driversGone.insert(id)
        }
        for ride in city.rides {
            if let mark = Self.mark(ride) {
                if state.rides.updateValue(mark, forKey: ride.id) != mark { changes.rides[ride.id] = mark }
            } else if state.rides.removeValue(forKey: ride.id) != nil {
                changes.rides[ride.id] = nil
                changes.ridesGone.insert(ride.id)
            }
        }
        for id in city.ridesGone where state.rides.removeValue(forKey: id) != nil {
            changes.rides[id] = nil
            changes.ridesGone.insert(id)
        }
        return changes
    }

    /// Replaces the map with a complete read, and returns how it differs from the map it replaces:
    /// O(drivers + rides).
    private static func replace(_ state: inout State, with city: CityChanges) -> Changes {
        var changes = Changes()
        var drivers: [DriverID: DriverMark] = [:]
        drivers.reserveCapacity(city.drivers.count)
        for driver in city.drivers {
            let mark = Self.mark(driver, stale: city.isStale(driver))
            drivers[driver.id] = mark
            if state.drivers[driver.id] != mark { changes.drivers[driver.id] = mark }
        }
        for id in state.drivers.keys where drivers[id] == nil { changes.driversGone.insert(id) }
        var rides: [RideID: RideMark] = [:]
        for ride in city.rides {
            guard let mark = Self.mark(ride) else { continue }
            rides[ride.id] = mark
            if state.rides[ride.id] != mark { changes.rides[ride.id] = mark }
        }
        for id in state.rides.keys where rides[id] == nil { changes.ridesGone.insert(id) }
        state.drivers = drivers
        state.rides = rides
        return changes
    }

    /// A ride as the map draws it, or nil once finished (it leaves the map).
    static func mark(_ ride: Ride) -> RideMark? {
        guard !ride.status.isFinal else { return nil }
        return RideMark(
            status: ride.status,
            pickup: Point(ride.pickup),
            dropoff: Point(ride.dropoff),
            searchRadius: ride.status == .requested || ride.status == .offered ? Int(ride.search.radius.value) : 0,
            driverID: ride.heldBy
        )
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
