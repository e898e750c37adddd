import DispatchCore

/// The ride commands as every way in (HTTP routes, the driver channel) runs them: refused up front
/// while storage cannot make them durable, applied by the dispatcher, answered only once durable.
struct RideService: Sendable {
    let dispatcher: Dispatcher
    let persistence: Persistence

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
        let acknowledged = try dispatcher.perform(action, on: ride, by: driver, operatorID: operatorID)
        try await persistence.waitUntilDurable(acknowledged.receipt)
        return acknowledged.value
    }

    /// The assigned driver gives the ride up (it searches again).
    func cancel(_ ride: RideID, byDriver driver: DriverID, operatorID: OperatorID? = nil) async throws -> Ride {
        try persistence.checkAvailable()
        let acknowledged = try dispatcher.cancel(ride, byDriver: driver, operatorID: operatorID)
        try await persistence.waitUntilDurable(acknowledged.receipt)
        return acknowledged.value
    }

    /// The rider cancels.
    func cancel(_ ride: RideID, byRider rider: RiderID, operatorID: OperatorID? = nil) async throws -> Ride {
        try persistence.checkAvailable()
        let acknowledged = try dispatcher.cancel(ride, byRider: rider, operatorID: operatorID)
        try await persistence.waitUntilDurable(acknowledged.receipt)
        return acknowledged.value
    }
}
