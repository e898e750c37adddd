import DispatchCore
import Foundation

/// How rides are kept (`STORAGE`): in memory only, or in PostgreSQL through the group-committing
/// writer. Commands ask it whether they may run and wait on it before answering; reads go through its
/// repository.
struct Persistence: Sendable {
    /// The writer, with `STORAGE=postgres`.
    let writer: RideWriter?
    /// What is read back of rides.
    let rides: any RideRepository

    /// Throws `503 database_unavailable` when commands cannot be made durable now.
    func checkAvailable() throws {
        try writer?.checkAvailable()
    }

    /// Waits until a command's events are committed (immediately in memory mode).
    func waitUntilDurable(_ receipt: PublishReceipt?) async throws {
        try await writer?.waitUntilDurable(receipt)
    }

    /// Waits until every command applied so far is committed: what a retry that finds its original's
    /// outcome in memory waits for, since the original's commit may still be in flight (or failing).
    func waitUntilEverythingDurable() async throws {
        try await writer?.waitUntilDurable(writer?.newestReceipt)
    }
}
