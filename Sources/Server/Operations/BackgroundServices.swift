import CoreMetrics
import DispatchCore
import Logging
import ServiceLifecycle

/// Expires stale drivers once a second, so driver counts and index memory follow the live fleet.
/// Queries expire stale drivers themselves before answering; this keeps idle periods tidy.
struct DriverExpiryService: Service {
    let dispatcher: Dispatcher
    let metrics: ServiceMetrics
    let interval: Duration
    let logger: Logger

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                let expired = dispatcher.expireStaleDrivers()
                if !expired.isEmpty {
                    metrics.driversExpired.increment(by: expired.count)
                    logger.debug("drivers went stale", metadata: ["drivers.count": "\(expired.count)"])
                }
            }
        }
    }
}

/// The first service to hear of a shutdown: it fails `/readyz` and waits `delay` before letting the
/// HTTP server drain, so load balancers (a Kubernetes Service) stop sending new requests first.
struct ShutdownDelayService: Service {
    let readiness: Readiness
    let delay: Duration
    let logger: Logger

    func run() async {
        // Wait for the shutdown signal; the service group cancels or signals us.
        try? await gracefulShutdown()
        readiness.markDraining()
        logger.info("shutting down: readiness is now failing", metadata: ["shutdown.delay": "\(delay)"])
        if delay > .zero {
            try? await Task.sleep(for: delay)
        }
    }
}
