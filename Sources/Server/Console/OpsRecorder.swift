import DequeModule
import DispatchCore
import Foundation
import Geo
import Synchronization

/// What the operators' console knows of rides beyond the dispatcher's current state: running totals,
/// the time each ride waited for its first offer, and each recent ride's decision record and events.
///
/// It is fed by the outbox (committed batches only), so the console shows nothing that is not durable.
/// Bounded: the records of the last `rideCapacity` rides and the events of the last `driverCapacity`
/// drivers, `eventsKept` events each.
final class OpsRecorder: DispatchEventSink {
    /// Running totals since start-up, counted as `/metrics` counts them (`dispatch_ride_requests_total`,
    /// `dispatch_offers_total{outcome}`, `dispatch_rides_total{final_state}`).
    struct Totals: Hashable, Sendable {
        var requested = 0
        var accepted = 0
        var declined = 0
        var expired = 0
        var withdrawn = 0
        var completed = 0
        var cancelled = 0
        var unfulfilled = 0
    }

    /// One event, as the console lists it.
    struct EventRecord: Hashable, Sendable {
        let kind: RideEvent.Kind
        let at: Date
        let rideID: RideID
        let status: RideStatus
        let driverID: DriverID?
        let reason: String?
    }

    /// One offer of a ride and how it ended.
    struct OfferRecord: Hashable, Sendable {
        let offer: Offer
        /// The `ride_offered` event's sequence in the ride.
        let sequence: Int
        /// `open` until the driver answers; then `accepted`, `declined`, `expired` or `withdrawn` (the
        /// ride ended while it was open).
        var outcome: String = "open"
    }

    /// Why each driver of a ride was chosen, offer by offer, and what the ride did.
    struct Decision: Hashable, Sendable {
        let rideID: RideID
        var offers: [OfferRecord] = []
        var events: [EventRecord] = []
    }

    private struct State {
        var totals = Totals()
        var requestedAt: [RideID: Date] = [:]
        /// Rides with an open offer (bounded by the open rides), to count a withdrawn offer as
        /// `EventMetrics` does, whatever records were let go.
        var openOffers: Set<RideID> = []
        var decisions: [RideID: Decision] = [:]
        var decisionOrder: Deque<RideID> = []
        var driverEvents: [DriverID: [EventRecord]] = [:]
        var driverOrder: Deque<DriverID> = []
    }

    private let state = Mutex(State())
    /// Seconds from each ride's request to its first offer, as `dispatch_match_latency_seconds`.
    let matchLatency = RecentSamples()
    private let rideCapacity: Int
    private let driverCapacity: Int
    private let eventsKept: Int

    init(rideCapacity: Int = 4_096, driverCapacity: Int = 4_096, eventsKept: Int = 16) {
        self.rideCapacity = rideCapacity
        self.driverCapacity = driverCapacity
        self.eventsKept = eventsKept
    }

    /// The totals now.
    var totals: Totals { state.withLock { $0.totals } }

    /// A recent ride's decision record, if it is still kept.
    func decision(of ride: RideID) -> Decision? { state.withLock { $0.decisions[ride] } }

    /// A driver's recent events, oldest first (empty when none are kept).
    func events(of driver: DriverID) -> [EventRecord] { state.withLock { $0.driverEvents[driver] ?? [] } }

    func publish(_ batch: EventBatch) -> PublishReceipt? {
        let latencies = state.withLock { state -> [Double] in
            batch.events.compactMap { record($0, &state) }
        }
        for seconds in latencies { matchLatency.record(seconds) }
        return nil
    }

    /// Records one event; returns the ride's wait for its first offer when this is that offer.
    private func record(_ event: RideEvent, _ state: inout State) -> Double? {
        var latency: Double?
        let entry = EventRecord(
            kind: event.kind,
            at: event.at,
            rideID: event.rideID,
            status: event.status,
            driverID: event.driverID,
            reason: event.reason
        )
        var decision = state.decisions[event.rideID] ?? Decision(rideID: event.rideID)
        if state.decisions[event.rideID] == nil {
            state.decisionOrder.append(event.rideID)
            while state.decisionOrder.count > rideCapacity, let oldest = state.decisionOrder.popFirst() {
                state.decisions[oldest] = nil
            }
        }
        func closeOffer(_ outcome: String) {
            if let last = decision.offers.indices.last, decision.offers[last].outcome == "open" {
                decision.offers[last].outcome = outcome
            }
        }
        switch event.kind {
        case .rideRequested:
            state.totals.requested += 1
            state.requestedAt[event.rideID] = event.at
        case .rideOffered:
            state.openOffers.insert(event.rideID)
            if let offer = event.offer { decision.offers.append(OfferRecord(offer: offer, sequence: event.sequence)) }
            if let requested = state.requestedAt.removeValue(forKey: event.rideID) {
                latency = max(0, event.at.timeIntervalSince(requested))
            }
        case .rideAccepted:
            state.openOffers.remove(event.rideID)
            state.totals.accepted += 1
            closeOffer("accepted")
        case .offerDeclined:
            state.openOffers.remove(event.rideID)
            state.totals.declined += 1
            closeOffer("declined")
        case .offerExpired:
            state.openOffers.remove(event.rideID)
            state.totals.expired += 1
            closeOffer("expired")
        case .rideCancelled:
            if state.openOffers.remove(event.rideID) != nil { state.totals.withdrawn += 1 }
            closeOffer("withdrawn")
            state.totals.cancelled += 1
            state.requestedAt[event.rideID] = nil
        case .rideUnfulfilled:
            state.openOffers.remove(event.rideID)
            closeOffer("withdrawn")
            state.totals.unfulfilled += 1
            state.requestedAt[event.rideID] = nil
        case .rideCompleted:
            state.openOffers.remove(event.rideID)
            state.totals.completed += 1
        case .searchResumed:
            // After a restart the open offer is re-made: the one before it ended with the process.
            state.openOffers.remove(event.rideID)
            closeOffer("withdrawn")
        case .searchWidened, .driverArrived, .tripStarted, .driverCancelled, .assignmentLapsed:
            break
        }
        decision.events.append(entry)
        if decision.events.count > eventsKept { decision.events.removeFirst(decision.events.count - eventsKept) }
        state.decisions[event.rideID] = decision
        if let driver = event.driverID ?? event.offer?.driverID {
            if state.driverEvents[driver] == nil {
                state.driverOrder.append(driver)
                while state.driverOrder.count > driverCapacity, let oldest = state.driverOrder.popFirst() {
                    state.driverEvents[oldest] = nil
                }
            }
            state.driverEvents[driver, default: []].append(entry)
            if let count = state.driverEvents[driver]?.count, count > eventsKept {
                state.driverEvents[driver]?.removeFirst(count - eventsKept)
            }
        }
        return latency
    }
}
