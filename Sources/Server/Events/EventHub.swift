import DequeModule
import DispatchCore
import Foundation
import Synchronization

/// What an event stream carries: a domain event, or a keep-alive so idle connections stay open and
/// vanished clients are noticed.
enum StreamItem: Sendable, Equatable {
    case event(RideEvent)
    /// An event of a driver's, with its place in the driver's own sequence (driver streams and the
    /// driver channel), so a reconnecting app can say where it left off.
    case driverEvent(RideEvent, cursor: DriverCursor)
    /// An event read back from the database (a replay after a restart or for an old ride).
    case stored(StoredEvent)
    case keepalive
}

/// The in-memory fan-out of domain events to live streams (Server-Sent Events), with each ride's
/// history so a ride's stream can start from its first event, and the view of rides and offers that
/// reads and authorisation see.
///
/// What reaches the hub is what clients may see. With `STORAGE=postgres` that is only what is
/// committed: the `RideWriter` publishes each batch here after its transaction (the outbox), in commit
/// order, so no stream, read or offer poll shows an event a crash could take back. In memory mode the
/// hub is the dispatcher's sink directly. Either way `publish` only appends and yields to bounded
/// buffers, never waits. A subscriber whose buffer is full (a slow or vanished client) is disconnected
/// instead of slowing dispatch; it can reconnect and replay the ride's history.
final class EventHub: DispatchEventSink {
    /// How many undelivered items a subscriber may have before it is disconnected.
    static let bufferLimit = 256

    private struct Subscriber {
        let continuation: AsyncStream<StreamItem>.Continuation
        /// False for the driver channel, whose WebSocket pings keep it alive.
        var wantsKeepalives = true
    }

    private struct State {
        var history: [RideID: [RideEvent]] = [:]
        /// Each ride as of its last published event (unfinished, and finished within the retention).
        var rides: [RideID: Ride] = [:]
        /// The open offers, by the driver holding them, and who holds each ride's.
        var offers: [DriverID: Offer] = [:]
        var offerHolders: [RideID: DriverID] = [:]
        var rideSubscribers: [RideID: [UUID: Subscriber]] = [:]
        var driverSubscribers: [DriverID: [UUID: Subscriber]] = [:]
        /// Finished rides, oldest first, whose history is dropped after the retention period.
        var finished: Deque<(rideID: RideID, at: Date)> = []
        /// Each driver's recent events, numbered in the driver's own sequence.
        var driverLogs: [DriverID: DriverLog] = [:]
        /// (driver, time) of each driver event, oldest first: a log whose last event is older than the
        /// retention period is dropped.
        var driverLogAges: Deque<(driver: DriverID, at: Date)> = []
        var isClosed = false

        /// Withdraws the open offer of a ride from the view, if the driver still holds it.
        mutating func dropOffer(of ride: RideID) {
            if let holder = offerHolders.removeValue(forKey: ride), offers[holder]?.rideID == ride {
                offers[holder] = nil
            }
        }
    }

    /// A driver's recent events, for a reconnecting app to resume from.
    struct DriverLog {
        /// The number the next event gets.
        var next: UInt64 = 1
        var recent: Deque<(number: UInt64, event: RideEvent)> = []
        var lastAt = Date.distantPast
    }

    /// How many recent events of each driver are kept for resumption.
    static let driverLogLimit = 64

    private let state = Mutex(State())
    private let retention: TimeInterval
    /// This process's run: cursors from another run (before a restart) cannot resume.
    let epoch = String(UInt32.random(in: 0...UInt32.max), radix: 36)

    /// Creates a hub.
    /// - Parameter retention: How long a finished ride's history (and a driver's recent events) stay
    ///   replayable.
    init(retention: Duration) {
        self.retention = retention.timeInterval
    }

    func publish(_ batch: EventBatch) -> PublishReceipt? {
        publish(batch.events, rides: batch.rides)
        return nil
    }

    /// Forgets rides that were published but are not held after all (stored rides that recovery could
    /// not restore), so the view never keeps an unfinished ride nobody will finish.
    func forget(_ ids: [RideID]) {
        state.withLock { state in
            for id in ids {
                state.rides[id] = nil
                state.dropOffer(of: id)
            }
        }
    }

    /// A ride as of its last published event, while the hub keeps it (unfinished, or finished within
    /// the retention period); nil otherwise.
    func ride(_ id: RideID) -> Ride? {
        state.withLock { $0.rides[id] }
    }

    /// The published open offer a driver holds, if any.
    func offer(heldBy driver: DriverID) -> Offer? {
        state.withLock { $0.offers[driver] }
    }

    /// Appends events to their rides' histories and yields them to the matching streams; `rides`, as
    /// they are after the events, become what reads and offer polls see (in the same lock, so the two
    /// never disagree).
    func publish(_ events: [RideEvent], rides: [Ride] = []) {
        // Streams are finished after the lock is released: finishing runs their termination handlers,
        // which take the lock themselves.
        var toFinish: [AsyncStream<StreamItem>.Continuation] = []
        defer { for continuation in toFinish { continuation.finish() } }
        state.withLock { state in
            for ride in rides {
                state.rides[ride.id] = ride
                state.dropOffer(of: ride.id)
                if let offer = ride.offer {
                    state.offers[offer.driverID] = offer
                    state.offerHolders[ride.id] = offer.driverID
                }
            }
            for event in events {
                state.history[event.rideID, default: []].append(event)
                Self.deliver(.event(event), to: &state.rideSubscribers[event.rideID], disconnecting: &toFinish)
                if let driver = event.driverID {
                    let cursor = Self.log(event, for: driver, in: &state, epoch: epoch)
                    Self.deliver(
                        .driverEvent(event, cursor: cursor),
                        to: &state.driverSubscribers[driver],
                        disconnecting: &toFinish
                    )
                }
                if event.status.isFinal {
                    // The ride's stream ends after its final event.
                    toFinish +=
                        state.rideSubscribers.removeValue(forKey: event.rideID)?.values.map(\.continuation) ?? []
                    state.finished.append((event.rideID, event.at))
                }
            }
            if let latest = events.last?.at {
                while let oldest = state.finished.first, latest.timeIntervalSince(oldest.at) >= retention {
                    state.finished.removeFirst()
                    state.history[oldest.rideID] = nil
                    state.rides[oldest.rideID] = nil
                }
                while let oldest = state.driverLogAges.first, latest.timeIntervalSince(oldest.at) >= retention {
                    state.driverLogAges.removeFirst()
                    if state.driverLogs[oldest.driver]?.lastAt == oldest.at { state.driverLogs[oldest.driver] = nil }
                }
            }
        }
    }

    /// A ride's events from its first, then live; the stream ends after the ride's final event.
    /// - Returns: nil when the hub has no history of the ride (unknown, or evicted).
    func subscribe(toRide ride: RideID) -> AsyncStream<StreamItem>? {
        let (stream, continuation) = AsyncStream.makeStream(
            of: StreamItem.self,
            bufferingPolicy: .bufferingOldest(Self.bufferLimit)
        )
        let id = UUID()
        enum Outcome { case unknown, live, ended }
        let outcome = state.withLock { state -> Outcome in
            // Only a history that starts at event 1 can be replayed from memory (after a restart, a
            // recovered ride's earlier events are in the database).
            guard let history = state.history[ride], history.first?.sequence == 1 else { return .unknown }
            // Replay and registration happen under one lock: no event is missed or repeated. The
            // history fits the buffer: a ride has a bounded number of events (about 10, at most 256).
            for event in history { continuation.yield(.event(event)) }
            guard !state.isClosed, history.last?.status.isFinal != true else { return .ended }
            state.rideSubscribers[ride, default: [:]][id] = Subscriber(continuation: continuation)
            return .live
        }
        switch outcome {
        case .unknown: return nil
        case .ended:
            continuation.finish()
            return stream
        case .live: break
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.rideSubscribers[ride]?.removeValue(forKey: id) }
        }
        return stream
    }

    /// A ride's live events only, without replay: for a caller that replays stored events itself. The
    /// stream ends after the ride's final event, or at once if the hub has already seen it.
    func subscribeLive(toRide ride: RideID) -> AsyncStream<StreamItem> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: StreamItem.self,
            bufferingPolicy: .bufferingOldest(Self.bufferLimit)
        )
        let id = UUID()
        let registered = state.withLock { state -> Bool in
            guard !state.isClosed, state.history[ride]?.last?.status.isFinal != true else { return false }
            state.rideSubscribers[ride, default: [:]][id] = Subscriber(continuation: continuation)
            return true
        }
        guard registered else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.rideSubscribers[ride]?.removeValue(forKey: id) }
        }
        return stream
    }

    /// A driver's live events: offers made to it and the events of its rides.
    func subscribe(toDriver driver: DriverID) -> AsyncStream<StreamItem> {
        subscribe(toDriver: driver, after: nil).stream
    }

    /// A driver's events after `cursor` (those still kept), then live.
    /// - Parameters:
    ///   - driver: The driver.
    ///   - cursor: The last event the app saw, from an earlier connection; nil: live only.
    /// - Returns: The stream, and whether it resumes exactly after `cursor` (no event missed).
    ///   - keepalives: Whether the stream gets keep-alives (not for the driver channel, which has
    ///     WebSocket pings).
    func subscribe(
        toDriver driver: DriverID,
        after cursor: DriverCursor?,
        keepalives: Bool = true
    ) -> DriverSubscription {
        let (stream, continuation) = AsyncStream.makeStream(
            of: StreamItem.self,
            bufferingPolicy: .bufferingOldest(Self.bufferLimit)
        )
        let id = UUID()
        let (isClosed, resumed, latest) = state.withLock { state -> (Bool, Bool, DriverCursor) in
            let log = state.driverLogs[driver] ?? DriverLog()
            var resumed = false
            // Replay and registration under one lock: no event is missed or repeated.
            if let cursor, cursor.epoch == epoch, cursor.number < log.next {
                let first = log.recent.first?.number ?? log.next
                resumed = first <= cursor.number + 1
                for (number, event) in log.recent where number > cursor.number {
                    continuation.yield(.driverEvent(event, cursor: DriverCursor(epoch: epoch, number: number)))
                }
            }
            if !state.isClosed {
                state.driverSubscribers[driver, default: [:]][id] = Subscriber(
                    continuation: continuation,
                    wantsKeepalives: keepalives
                )
            }
            return (state.isClosed, resumed, DriverCursor(epoch: epoch, number: log.next - 1))
        }
        if isClosed {
            continuation.finish()
        } else {
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { _ = $0.driverSubscribers[driver]?.removeValue(forKey: id) }
            }
        }
        return DriverSubscription(stream: stream, resumed: resumed, latest: latest)
    }

    /// Numbers a driver's event and keeps it among the driver's recent ones.
    private static func log(
        _ event: RideEvent,
        for driver: DriverID,
        in state: inout State,
        epoch: String
    )
        -> DriverCursor
    {
        var log = state.driverLogs[driver] ?? DriverLog()
        let number = log.next
        log.next += 1
        log.recent.append((number, event))
        if log.recent.count > driverLogLimit { log.recent.removeFirst() }
        log.lastAt = event.at
        state.driverLogs[driver] = log
        state.driverLogAges.append((driver, event.at))
        return DriverCursor(epoch: epoch, number: number)
    }

    /// Sends a keep-alive to the streams in one of `slots` equal shares (by ride or driver), so a
    /// caller that sends slot after slot, one a second, keeps every stream alive without writing to
    /// thousands of connections in the same instant (a latency spike for everything else).
    func sendKeepalives(slot: Int = 0, of slots: Int = 1) {
        func inSlot(_ key: some Hashable) -> Bool {
            slots <= 1 || UInt(bitPattern: key.hashValue) % UInt(slots) == UInt(slot)
        }
        var toFinish: [AsyncStream<StreamItem>.Continuation] = []
        defer { for continuation in toFinish { continuation.finish() } }
        state.withLock { state in
            for ride in Array(state.rideSubscribers.keys) where inSlot(ride) {
                Self.deliver(.keepalive, to: &state.rideSubscribers[ride], disconnecting: &toFinish)
            }
            for driver in Array(state.driverSubscribers.keys) where inSlot(driver) {
                Self.deliver(.keepalive, to: &state.driverSubscribers[driver], disconnecting: &toFinish)
            }
        }
    }

    /// Ends every stream and refuses new ones: at shutdown, so the HTTP server can drain.
    func close() {
        let continuations = state.withLock { state in
            state.isClosed = true
            let all = state.rideSubscribers.values.flatMap(\.values) + state.driverSubscribers.values.flatMap(\.values)
            state.rideSubscribers = [:]
            state.driverSubscribers = [:]
            return all.map(\.continuation)
        }
        for continuation in continuations { continuation.finish() }
    }

    /// The number of open subscriptions (tests; the metric counts `StreamLimits`).
    var subscriberCount: Int {
        state.withLock { state in
            state.rideSubscribers.values.reduce(0) { $0 + $1.count }
                + state.driverSubscribers.values.reduce(0) { $0 + $1.count }
        }
    }

    /// Yields to each subscriber; one whose buffer is full is removed, to be disconnected by the caller
    /// once the lock is released.
    private static func deliver(
        _ item: StreamItem,
        to subscribers: inout [UUID: Subscriber]?,
        disconnecting: inout [AsyncStream<StreamItem>.Continuation]
    ) {
        guard let current = subscribers else { return }
        for (id, subscriber) in current {
            if item == .keepalive, !subscriber.wantsKeepalives { continue }
            switch subscriber.continuation.yield(item) {
            case .dropped:
                disconnecting.append(subscriber.continuation)
                subscribers?[id] = nil
            case .terminated:
                subscribers?[id] = nil
            case .enqueued:
                break
            @unknown default:
                break
            }
        }
        if subscribers?.isEmpty == true { subscribers = nil }
    }
}
