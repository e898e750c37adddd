import Synchronization

/// Whether the service should get new traffic. `/readyz` answers from here.
///
/// Not ready once shutdown begins, so a load balancer stops routing before the server stops
/// accepting (see `ShutdownDelayService`). The persistence work adds database reachability.
final class Readiness: Sendable {
    private let draining = Atomic<Bool>(false)

    /// Marks the service as shutting down.
    func markDraining() {
        draining.store(true, ordering: .relaxed)
    }

    /// True until shutdown begins.
    var isReady: Bool {
        !draining.load(ordering: .relaxed)
    }
}
