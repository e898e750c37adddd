import DispatchCore

/// A driver's own status change (`available`, `offline`) as every way in (the HTTP route, the driver
/// channel) runs it: a command like a ride's, refused while storage cannot make it durable and
/// answered once it is stored, so a restart never makes an offline driver available.
struct DriverStatusService: Sendable {
    let dispatcher: Dispatcher
    let persistence: Persistence

    /// Sets the driver's status.
    /// - Returns: The driver after the change, durable.
    /// - Throws: `DispatchError` (`driver_not_found`, `driver_busy`, `invalid_status`);
    ///   `CommandNotDurable` while storage is unavailable or the commit is late.
    func setStatus(_ id: DriverID, to status: DriverStatus) async throws -> Driver {
        try persistence.checkAvailable()
        let acknowledged = try dispatcher.setStatus(id, to: status)
        try await persistence.waitUntilDurable(acknowledged.receipt)
        return acknowledged.value
    }
}
