import CoreMetrics
import Foundation
import Logging
import PostgresNIO
import Synchronization

// Whether the database answers: a `SELECT 1` while idle, and the transitions readiness and dispatch follow.
extension RideWriter {
    /// While idle, asks the database `SELECT 1` every second, so readiness follows it.
    func checkHealth() async {
        while !Task.isCancelled {
            let recent = state.withLock { state in state.lastSuccess.map { clock.now - $0 < .seconds(1) } ?? false }
            if !recent {
                let ok: Bool
                do {
                    try await withDeadline(.seconds(2)) { [client] in _ = try await client.query("SELECT 1") }
                    ok = true
                } catch {
                    ok = false
                }
                markHealthy(ok)
                if ok { state.withLock { $0.lastSuccess = clock.now } }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Records whether the database answers (the start-up sequence marks it after migrations).
    func markHealthy(_ healthy: Bool) {
        let changed = state.withLock { state in
            defer { state.healthy = healthy }
            return state.healthy != healthy
        }
        metrics.available.record(healthy ? 1 : 0)
        if changed {
            healthObserver.withLock { $0 }?(healthy)
            if healthy {
                logger.info("database reachable")
            } else {
                logger.error("database unreachable: refusing commands, queueing written-behind events")
            }
        }
    }
}
