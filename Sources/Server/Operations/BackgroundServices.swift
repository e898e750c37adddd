import CoreMetrics
import DispatchCore
import Foundation
import Logging
import ServiceLifecycle

/// Drives the dispatcher's timers: offer expiries, search widening and timeouts, retries, batch
/// windows; also expires stale drivers and keeps idle event streams alive (a fifteenth of them each
/// second, so each stream hears every 15 s and no instant writes to all of them at once).
///
/// It wakes at the dispatcher's next deadline, and at least every `maximumSleep`, so timers fire
/// within a few milliseconds of when they are due.
struct DispatchTicker: Service {
    let dispatcher: Dispatcher
    let hub: EventHub
    let metrics: ServiceMetrics
    let logger: Logger
    var maximumSleep: Duration = .milliseconds(100)
    /// Each idle stream gets a keep-alive this often (15 s, well inside proxies' idle timeouts).
    var keepaliveSlots = 15
    /// A share of the streams gets its keep-alive each second (one slot of `keepaliveSlots`).
    var keepaliveInterval: Duration = .seconds(1)

    func run() async {
        await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var nextKeepalive = clock.now + keepaliveInterval
            var keepaliveSlot = 0
            while !Task.isCancelled {
                let (nextDeadline, expired) = dispatcher.tick()
                if !expired.isEmpty {
                    metrics.driversExpired.increment(by: expired.count)
                    logger.debug("drivers went stale", metadata: ["drivers.count": "\(expired.count)"])
                }
                if clock.now >= nextKeepalive {
                    hub.sendKeepalives(slot: keepaliveSlot, of: keepaliveSlots)
                    keepaliveSlot = (keepaliveSlot + 1) % keepaliveSlots
                    nextKeepalive = clock.now + keepaliveInterval
                }
                var sleep = maximumSleep
                if let nextDeadline {
                    let untilDeadline = Duration.milliseconds(Int64(max(1, nextDeadline.timeIntervalSinceNow * 1000)))
                    sleep = min(sleep, untilDeadline)
                }
                do {
                    try await Task.sleep(for: sleep)
                } catch {
                    return
                }
            }
        }
    }
}

/// The first service to hear of a shutdown: it fails `/readyz`, waits `delay` so load balancers (a
/// Kubernetes Service) stop sending new requests, then ends the event streams so the HTTP server can
/// drain its in-flight requests.
struct ShutdownDelayService: Service {
    let readiness: Readiness
    let hub: EventHub
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
        hub.close()
    }
}
