import DispatchCore

/// The ride commands as every way in (HTTP routes, the driver channel) runs them: refused up front
/// while storage cannot make them durable, applied by the dispatcher, answered only once durable.
struct RideService: Sendable {
    let dispatcher: Dispatcher
    let persistence: Persistence

    /// A rider (or an operator for one) asks for a ride; with an `Idempotency-Key` used before, the
    /// ride it created, as it is now.
    ///
    /// A retry is answered only once the original is durable: the original's commit may still be in
    /// flight, or have timed out (`503 commit_timeout`, after which the README tells clients to retry
    /// with the same key), and a `200` before it is committed would be one a crash can take back. So a
    /// retry waits for every command applied before it, and fails as a late original would.
    /// - Returns: The ride, and whether this call created it.
    /// - Throws: `DispatchError` (`idempotencyKeyReused`, limits), `APIError` (503) as for any command.
    func request(
        _ request: RideRequest,
        idempotencyKey key: String?,
        operatorID: OperatorID? = nil
    ) async throws -> (ride: Ride, created: Bool) {
        try persistence.checkAvailable()
        // A key used before a restart is only in the store.
        if let key, let stored = try await persistence.rides.ride(idempotencyKey: key, rider: request.riderID) {
            guard stored.request == request else { throw Self.keyReused(key, by: stored) }
            // What memory holds of it may be newer than what is stored: answer once that is durable.
            try await persistence.waitUntilEverythingDurable()
            return (dispatcher.ride(stored.id) ?? stored, false)
        }
        let acknowledged = try dispatcher.requestRide(request, idempotencyKey: key, operatorID: operatorID)
        let outcome = acknowledged.value
        guard outcome.created else {
            try await persistence.waitUntilEverythingDurable()
            return (outcome.ride, false)
        }
        do {
            try await persistence.waitUntilDurable(acknowledged.receipt)
        } catch CommandNotDurable.refused(let constraint, let reason) {
            // Not stored, so not dispatched either: the writer has had the dispatcher forget it.
            // The key was taken in the database meanwhile (by another instance, or an original that
            // raced this retry): the answer is the ride that holds it, as for any retry.
            guard constraint == Migrations.idempotencyKeyIndex, let key,
                let existing = try await persistence.rides.ride(idempotencyKey: key, rider: request.riderID)
            else { throw CommandNotDurable.refused(constraint: constraint, reason: reason) }
            guard existing.request == request else { throw Self.keyReused(key, by: existing) }
            return (existing, false)
        }
        return (outcome.ride, true)
    }

    private static func keyReused(_ key: String, by ride: Ride) -> DispatchError {
        DispatchError(
            .idempotencyKeyReused,
            "Idempotency-Key \(key) was already used for a different request (ride \(ride.id))"
        )
    }

    /// A driver accepts, declines, arrives, starts or completes.
    /// - Parameter operatorID: The operator acting for the driver, if one is; the ride's event says so.
    /// - Returns: The ride after the command, durable.
    /// - Throws: `DispatchError` when the command is not allowed; `APIError` (503) while storage is
    ///   unavailable or the commit is late.
    func perform(
        _ action: DriverAction,
        on ride: RideID,
        by driver: DriverID,
        operatorID: OperatorID? = nil
    ) async throws -> Ride {
        try persistence.checkAvailable()
        let acknowledged = try await ended(ride, as: { $0.driverID == driver }) {
            try dispatcher.perform(action, on: ride, by: driver, operatorID: operatorID)
        }
        try await persistence.waitUntilDurable(acknowledged.receipt)
        return acknowledged.value
    }

    /// The assigned driver gives the ride up (it searches again).
    func cancel(_ ride: RideID, byDriver driver: DriverID, operatorID: OperatorID? = nil) async throws -> Ride {
        try persistence.checkAvailable()
        let acknowledged = try await ended(ride, as: { $0.driverID == driver }) {
            try dispatcher.cancel(ride, byDriver: driver, operatorID: operatorID)
        }
        try await persistence.waitUntilDurable(acknowledged.receipt)
        return acknowledged.value
    }

    /// An operator ends a ride (cancelled or completed) with a reason, recorded on its final event.
    func end(_ ride: RideID, as ending: RideEnding, reason: String, operatorID: OperatorID) async throws -> Ride {
        try persistence.checkAvailable()
        let acknowledged = try await ended(ride, as: { _ in true }) {
            try dispatcher.end(ride, as: ending, reason: reason, operatorID: operatorID)
        }
        try await persistence.waitUntilDurable(acknowledged.receipt)
        return acknowledged.value
    }

    /// The rider cancels.
    func cancel(_ ride: RideID, byRider rider: RiderID, operatorID: OperatorID? = nil) async throws -> Ride {
        try persistence.checkAvailable()
        let acknowledged = try await ended(ride, as: { $0.riderID == rider }) {
            try dispatcher.cancel(ride, byRider: rider, operatorID: operatorID)
        }
        try await persistence.waitUntilDurable(acknowledged.receipt)
        return acknowledged.value
    }

    /// Runs a command on a ride; one the dispatcher does not hold that ended before this process
    /// (or, after a failover, this term) began is a conflict, as it is while the ride is in memory:
    /// a retry of a command that was applied before a restart or a failover is answered `409`, not
    /// `404`. Someone else's ride, or one that never existed, is still not found.
    /// - Parameter party: Whether the caller is the ride's party (the rider, its driver).
    private func ended<T>(
        _ id: RideID,
        as party: (Ride) -> Bool,
        _ command: () throws -> T
    ) async throws -> T {
        do {
            return try command()
        } catch let error as DispatchError where error.code == .rideNotFound {
            guard let stored = try? await persistence.rides.ride(id), stored.status.isFinal, party(stored) else {
                throw error
            }
            throw DispatchError(.transitionNotAllowed, "ride \(id) is already \(stored.status.rawValue)")
        }
    }
}
