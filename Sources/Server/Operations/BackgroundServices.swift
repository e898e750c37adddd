import CoreMetrics
import DispatchCore
import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

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
/// Kubernetes Service) stop sending new requests, then ends the event streams (riders' and drivers',
/// and the operators' consoles') so the HTTP server can drain its in-flight requests.
struct ShutdownDelayService: Service {
    let readiness: Readiness
    let hub: EventHub
    let opsFeed: OpsFeed
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
        opsFeed.close()
    }
}

/// Gives back the memory that a burst of callers left behind, every `interval`: verified tokens that
/// have expired and rate-limit buckets that have refilled; and, when much was freed (those, or drivers
/// the dispatcher forgot), asks the allocator to return the freed pages to the system, so that the
/// resident size an operator watches falls back too.
struct Housekeeping: Service {
    let dispatcher: Dispatcher
    let verifier: TokenVerifier
    let limiter: RateLimiter
    /// The service's clock: with the system clock, how far the wall clock has been stepped from it
    /// is exported (`dispatch_clock_offset_seconds`).
    let clock: any DispatchClock
    let logger: Logger
    var interval: Duration = .seconds(10)

    func run() async {
        let offset = Gauge(label: "dispatch_clock_offset_seconds")
        await cancelWhenGracefulShutdown {
            var forgotten = dispatcher.snapshot().driversForgotten
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                if let system = clock as? SystemClock { offset.record(system.wallClockOffset) }
                let tokens = verifier.sweepExpired()
                let buckets = limiter.sweep()
                let nowForgotten = dispatcher.snapshot().driversForgotten
                let drivers = nowForgotten - forgotten
                forgotten = nowForgotten
                guard tokens + buckets + drivers >= 1_000 else { continue }
                let trimmed = Allocator.returnFreedMemory()
                logger.debug(
                    "memory given back",
                    metadata: [
                        "tokens.count": "\(tokens)", "buckets.count": "\(buckets)", "drivers.count": "\(drivers)",
                        "allocator.trimmed": "\(trimmed)",
                    ]
                )
            }
        }
    }
}

/// The C allocator's `malloc_trim` and `mallopt` (glibc), looked up at run time: Swift's Glibc module
/// does not export them, and other C libraries do not have them (then these do nothing).
enum Allocator {
    private typealias Trim = @convention(c) (Int) -> Int32
    private typealias Option = @convention(c) (Int32, Int32) -> Int32

    private static func symbol<Function>(_ name: String, as type: Function.Type) -> Function? {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: type)
        #else
        return nil
        #endif
    }

    private static let trim = symbol("malloc_trim", as: Trim.self)

    /// Caps glibc's heaps at two (`M_ARENA_MAX`) and fixes its mmap threshold; call before any thread
    /// starts. By default glibc gives threads up to eight heaps per core, and memory freed in a heap
    /// that still holds a few live blocks cannot go back to the system. Measured with
    /// `scripts/abuse-test`: once 100,000 drivers that reported once had all been forgotten, the
    /// default left 5-12 MiB more resident than at the start; with both settings, 3 MiB.
    static func limitHeaps() {
        guard let mallopt = symbol("mallopt", as: Option.self) else { return }
        // M_ARENA_MAX (-8 in glibc's malloc.h): two heaps.
        _ = mallopt(-8, 2)
        // M_MMAP_THRESHOLD (-3): blocks of 128 KiB and more (the tables of a crowd of drivers or
        // tokens) always get pages of their own, returned when freed; by default glibc raises the
        // threshold after the first such free, and later large tables land inside a heap.
        _ = mallopt(-3, 128 * 1024)
    }

    /// Returns freed heap pages to the system.
    /// - Returns: Whether any memory was returned.
    @discardableResult
    static func returnFreedMemory() -> Bool {
        (trim?(0) ?? 0) == 1
    }
}
