import Foundation
import HeapModule

extension DispatchState {
    /// Stops dispatch's clock while commands cannot be made durable (the database is unreachable): no
    /// timer fires and no offer is made until `resume(now:)`, so an outage neither burns drivers on
    /// offers nobody can accept nor runs rides out of time. Location reports and reads go on.
    /// Pausing a paused state changes nothing.
    public mutating func pause(now: Date) {
        if pausedSince == nil { pausedSince = now }
    }

    /// Starts dispatch's clock again: every deadline (offer expiries, widening, retries, batch
    /// windows, search timeouts) moves later by the time spent paused, so each ride has exactly the
    /// time it had left when the pause began; then whatever is due fires, in order.
    public mutating func resume(now: Date) {
        guard let since = pausedSince else { return }
        pausedSince = nil
        let shift = now.timeIntervalSince(since)
        if shift > 0 {
            timers = Heap(
                timers.unordered.map { Timer(at: $0.at + shift, order: $0.order, rideID: $0.rideID, kind: $0.kind) }
            )
            nextBatch = nextBatch.map { $0 + shift }
            for (id, ride) in rides where !ride.status.isFinal {
                rides[id]?.postponeDeadlines(by: shift)
            }
        }
        tick(now: now)
    }

    /// Whether dispatch is paused.
    public var isPaused: Bool { pausedSince != nil }
}

extension Ride {
    /// Moves every deadline of the ride later (after a pause).
    fileprivate mutating func postponeDeadlines(by shift: TimeInterval) {
        search.deadline += shift
        search.nextWidening = search.nextWidening.map { $0 + shift }
        search.nextAttempt = search.nextAttempt.map { $0 + shift }
        if let offer {
            self.offer = Offer(
                rideID: offer.rideID,
                driverID: offer.driverID,
                pickup: offer.pickup,
                dropoff: offer.dropoff,
                offeredAt: offer.offeredAt,
                expiresAt: offer.expiresAt + shift,
                explanation: offer.explanation
            )
        }
    }
}
