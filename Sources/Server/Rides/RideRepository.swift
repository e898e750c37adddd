import DispatchCore
import Foundation

/// What is read back of rides: one ride, a rider's or driver's trip history, a ride's events as a
/// stream, and the ride an idempotency key created. Chosen once at start-up (`STORAGE`), so no
/// controller asks which store is configured.
///
/// Both implementations read the event hub's view first: what has been published to clients, which
/// with PostgreSQL is only what is committed (see `EventHub`).
protocol RideRepository: Sendable {
    /// A ride by ID, as durably recorded; nil if there is none.
    func ride(_ id: RideID) async throws -> Ride?
    /// The ride a rider's idempotency key created before, when only the store remembers it (after a
    /// restart); nil otherwise (the dispatcher knows the keys of the rides it holds).
    func ride(idempotencyKey key: String, rider: RiderID) async throws -> Ride?
    /// A rider's or a driver's rides, newest first, requested before `before`.
    func history(of owner: HistoryOwner, before: Date?, limit: Int) async throws -> [Ride]
    /// A ride's events from its first, then live, ending after its final event; nil when there is no
    /// such ride.
    func events(of id: RideID) async throws -> AsyncStream<StreamItem>?
    /// A ride's decision records, one per offer, in order (empty when none is kept).
    func decisions(of id: RideID) async throws -> [DecisionRecordJSON]
}

/// `STORAGE=memory`: everything is in the hub and the dispatcher, and nothing outlives the process.
struct MemoryRideRepository: RideRepository {
    let dispatcher: Dispatcher
    let hub: EventHub
    /// The decisions of the last rides (`OpsRecorder.rideCapacity`): memory mode keeps no more.
    let recorder: OpsRecorder

    func ride(_ id: RideID) async throws -> Ride? { hub.ride(id) }

    func ride(idempotencyKey key: String, rider: RiderID) async throws -> Ride? { nil }

    func history(of owner: HistoryOwner, before: Date?, limit: Int) async throws -> [Ride] {
        dispatcher.rides { ride in
            let matches =
                switch owner {
                case .rider(let rider): ride.riderID == rider
                case .driver(let driver): ride.driverID == driver
                }
            return matches && before.map { ride.requestedAt < $0 } ?? true
        }
        .sorted { ($0.requestedAt, $0.id) > ($1.requestedAt, $1.id) }
        .prefix(limit)
        .map { $0 }
    }

    func events(of id: RideID) async throws -> AsyncStream<StreamItem>? {
        hub.subscribe(toRide: id)
    }

    func decisions(of id: RideID) async throws -> [DecisionRecordJSON] {
        guard let decision = recorder.decision(of: id) else { return [] }
        let requestedAt = hub.ride(id)?.requestedAt ?? dispatcher.ride(id)?.requestedAt
        return decision.offers.map {
            DecisionRecordJSON(offer: $0.offer, sequence: $0.sequence, requestedAt: requestedAt ?? $0.offer.offeredAt)
        }
    }
}

/// `STORAGE=postgres`: the hub's committed view while it holds a ride, the database beyond it.
struct PostgresRideRepository: RideRepository {
    let hub: EventHub
    let store: PostgresRideStore

    func ride(_ id: RideID) async throws -> Ride? {
        if let ride = hub.ride(id) { return ride }
        return try await store.ride(id)
    }

    func ride(idempotencyKey key: String, rider: RiderID) async throws -> Ride? {
        try await store.ride(idempotencyKey: key, rider: rider)
    }

    func history(of owner: HistoryOwner, before: Date?, limit: Int) async throws -> [Ride] {
        try await store.history(of: owner, before: before, limit: limit)
    }

    func decisions(of id: RideID) async throws -> [DecisionRecordJSON] {
        try await store.decisions(of: id)
    }

    func events(of id: RideID) async throws -> AsyncStream<StreamItem>? {
        if let stream = hub.subscribe(toRide: id) { return stream }
        // Not (all) in memory: subscribe to what comes next first, then replay what is stored, so no
        // event falls between the two; live events the replay already had are skipped.
        let live = hub.subscribeLive(toRide: id)
        let stored = try await store.events(of: id)
        guard !stored.isEmpty else { return nil }
        let lastStored = stored.last?.sequence ?? 0
        let ended = stored.last?.isFinal ?? false
        let (stream, continuation) = AsyncStream.makeStream(of: StreamItem.self)
        let forward = Task {
            for event in stored { continuation.yield(.stored(event)) }
            if !ended {
                for await item in live {
                    if case .event(let event) = item, event.sequence <= lastStored { continue }
                    continuation.yield(item)
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in forward.cancel() }
        return stream
    }
}
