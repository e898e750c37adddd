import DequeModule
import DispatchCore

/// The group commit's logic, without I/O or clocks of its own: what to write next, what a commit or a
/// failure does to the queue, who to wake. `RideWriter` is the shell that runs the transactions and
/// resumes the continuations; this is where the rules are, tested synchronously.
///
/// - Batches leave the queue in order, as many as fit `maximumBatchEvents` (one at a time without
///   group commit), and one batch is in flight at a time.
/// - A batch that fails because the database is unavailable is retried as it was.
/// - A batch the database refuses (its data or a constraint, not its availability) is split: the
///   first half is tried alone, and so on, until one entry is refused alone. That entry is
///   dead-lettered: it leaves the queue with its error, its waiters fail, and everything else
///   commits, so one bad entry never blocks a region's commands.
/// - A waiter is resumed once its position is committed (or dead-lettered: then with the refusal), or
///   expired at its deadline.
struct GroupCommit<Waiter, Instant: Comparable & Sendable> {
    /// One command's events and the rides they changed, at a position in the log.
    struct Entry: Sendable {
        let position: UInt64
        var events: [RideEvent]
        var rides: [Ride]
        var driverStatuses: [DriverStatusChange] = []
        /// When it was enqueued, if the caller said (for what waiting to be visible costs).
        var enqueuedAt: Instant?
    }

    /// What to write: the entries at the head of the queue.
    struct Batch {
        let entries: [Entry]
        var eventCount: Int { entries.reduce(0) { $0 + $1.events.count } }
    }

    /// What a refusal leads to.
    enum Refusal {
        /// The batch is split; try `nextBatch()` again.
        case split
        /// This entry was refused alone: it left the queue, these waiters are to fail.
        case deadLettered(Entry, failing: [Waiter])
    }

    private struct Waiting {
        let position: UInt64
        let deadline: Instant
        let waiter: Waiter
    }

    let maximumBatchEvents: Int
    let groupCommit: Bool

    private(set) var queue: Deque<Entry> = []
    private(set) var queuedEvents = 0
    private(set) var committed: UInt64 = 0
    private var nextPosition: UInt64 = 1
    private var inFlight = false
    /// While bisecting a refused batch: the most entries the next batch may take, until the batch's
    /// last position is past (committed or dead-lettered).
    private var splitLimit: Int?
    private var splitUntil: UInt64 = 0
    /// The most recent dead-lettered positions (at most `deadLetterMemory`), so that a wait registered
    /// after the refusal is told so rather than taken for committed.
    private var deadLettered: Deque<UInt64> = []
    static var deadLetterMemory: Int { 1_024 }
    private var waiters: [UInt64: Waiting] = [:]
    private var nextWaiter: UInt64 = 0
    /// Set once a newer leadership epoch refused a batch: nothing is queued or written any more.
    private(set) var isFenced = false
    /// The highest position sent in a write whose outcome is unknown (it failed as unavailable: the
    /// connection may have dropped after the commit).
    private var attemptedUpTo: UInt64 = 0

    init(maximumBatchEvents: Int, groupCommit: Bool = true) {
        self.maximumBatchEvents = maximumBatchEvents
        self.groupCommit = groupCommit
    }

    /// The position the newest entry got; 0 before the first.
    var newestPosition: UInt64 { nextPosition - 1 }

    /// How many waiters there are.
    var waiterCount: Int { waiters.count }

    /// Appends a command's events; returns their position.
    mutating func enqueue(
        events: [RideEvent],
        rides: [Ride],
        driverStatuses: [DriverStatusChange] = [],
        at instant: Instant? = nil
    ) -> UInt64 {
        let position = nextPosition
        nextPosition += 1
        guard !isFenced else { return position }
        queue.append(
            Entry(position: position, events: events, rides: rides, driverStatuses: driverStatuses, enqueuedAt: instant)
        )
        queuedEvents += events.count
        return position
    }

    /// What registering a wait found.
    enum WaitOutcome: Equatable {
        /// Registered: the waiter is returned by `committed`, `refused` or `expire`.
        case waiting
        /// The position is committed already: resume at once.
        case committed
        /// The position was dead-lettered: fail at once.
        case deadLettered
        /// This replica no longer leads: what it had not committed never will be.
        case fenced
    }

    /// Registers a waiter for a position, unless its outcome is known already.
    mutating func wait(for position: UInt64, until deadline: Instant, _ waiter: Waiter) -> WaitOutcome {
        guard committed < position else { return deadLettered.contains(position) ? .deadLettered : .committed }
        guard !isFenced else { return .fenced }
        nextWaiter += 1
        waiters[nextWaiter] = Waiting(position: position, deadline: deadline, waiter: waiter)
        return .waiting
    }

    /// Strips rides from every queued entry (their events and rows), for rides whose creation was
    /// dead-lettered: what follows of them would be refused too, and take other rides' events with it.
    mutating func withdraw(rides ids: Set<RideID>) {
        guard !ids.isEmpty else { return }
        for index in queue.indices {
            let before = queue[index].events.count
            queue[index].events.removeAll { ids.contains($0.rideID) }
            queue[index].rides.removeAll { ids.contains($0.id) }
            queuedEvents -= before - queue[index].events.count
        }
    }

    /// The next batch to write, or nil when the queue is empty or a batch is in flight.
    mutating func nextBatch() -> Batch? {
        guard !inFlight, !queue.isEmpty else { return nil }
        var taken: [Entry] = []
        var events = 0
        let limit = splitLimit ?? (groupCommit ? Int.max : 1)
        for entry in queue {
            if !taken.isEmpty, taken.count >= limit || events + entry.events.count > maximumBatchEvents { break }
            taken.append(entry)
            events += entry.events.count
        }
        inFlight = true
        return Batch(entries: taken)
    }

    /// The batch committed: it leaves the queue; returns the waiters to resume.
    mutating func committed(_ batch: Batch) -> [Waiter] {
        inFlight = false
        queue.removeFirst(batch.entries.count)
        queuedEvents -= batch.eventCount
        let watermark = max(committed, batch.entries.last?.position ?? committed)
        committed = watermark
        if watermark >= splitUntil { splitLimit = nil }
        return takeWaiters { $0.position <= watermark }
    }

    /// The batch failed for want of the database: it stays at the head, to be retried as it is.
    /// - Parameter attempted: Whether it was sent (then it may have committed); false when it was held
    ///   back without being sent.
    mutating func unavailable(_ batch: Batch, attempted: Bool = true) {
        inFlight = false
        if attempted { attemptedUpTo = max(attemptedUpTo, batch.entries.last?.position ?? 0) }
    }

    /// The database refused the batch for its content.
    mutating func refused(_ batch: Batch) -> Refusal {
        inFlight = false
        guard batch.entries.count == 1, let entry = batch.entries.first else {
            splitLimit = max(1, batch.entries.count / 2)
            splitUntil = max(splitUntil, batch.entries.last?.position ?? 0)
            return .split
        }
        queue.removeFirst()
        queuedEvents -= entry.events.count
        committed = max(committed, entry.position)
        // Found: batches are whole again (another bad entry would be bisected anew).
        splitLimit = nil
        deadLettered.append(entry.position)
        if deadLettered.count > Self.deadLetterMemory { deadLettered.removeFirst() }
        let failing = takeWaiters { $0.position == entry.position }
        return .deadLettered(entry, failing: failing)
    }

    /// A newer epoch refused the batch: this replica was deposed. Everything queued is dropped (the new
    /// leader recovers from what was committed, and none of it was shown), and so is everything
    /// enqueued from now on.
    /// - Returns: How many events were dropped; the waiters whose entries were never sent (nothing of
    ///   theirs is stored: `notCommitted`), and those sent in a write whose outcome is unknown (an
    ///   earlier try may have committed: `unknown`).
    mutating func fenced() -> (droppedEvents: Int, notCommitted: [Waiter], unknown: [Waiter]) {
        isFenced = true
        inFlight = false
        let dropped = queuedEvents
        queue.removeAll()
        queuedEvents = 0
        let attempted = attemptedUpTo
        let unknown = takeWaiters { $0.position <= attempted }
        return (dropped, takeWaiters { _ in true }, unknown)
    }

    /// Removes the waiters past their deadline; returns them to fail.
    mutating func expire(now: Instant) -> [Waiter] {
        takeWaiters { $0.deadline <= now }
    }

    /// Removes every waiter (at shutdown).
    mutating func removeAllWaiters() -> [Waiter] {
        takeWaiters { _ in true }
    }

    /// The earliest deadline among those waiting, for "how long has the oldest waited".
    var earliestDeadline: Instant? { waiters.values.map(\.deadline).min() }

    private mutating func takeWaiters(where predicate: (Waiting) -> Bool) -> [Waiter] {
        let done = waiters.filter { predicate($0.value) }
        for key in done.keys { waiters[key] = nil }
        return done.sorted { $0.key < $1.key }.map(\.value.waiter)
    }
}
