import CoreMetrics
import DispatchCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// The fairness metrics, by driver cohort (`DRIVER_COHORTS`, from the drivers' tokens):
/// - `dispatch_cohort_offers_total{cohort}` and `dispatch_cohort_trips_total{cohort}` (completed),
///   over `dispatch_cohort_work_seconds_total{cohort}` (seconds drivers were at work: available and
///   fresh, or holding an offer or a ride): offers and trips per driver-hour, in PromQL;
/// - `dispatch_fairness_pairs_total{cohort, outcome="offered"|"passed_over"}`: of two candidates of
///   different cohorts that were equally good (`FairnessLedger.comparable`), which one was offered;
///   `DispatchCohortOfferSkew` fires when a cohort's share strays from one half;
/// - `dispatch_offer_gini`: the Gini coefficient of offers per hour at work across drivers.
///
/// It hears committed events only (the outbox), as the console does.
final class FairnessMonitor: DispatchEventSink {
    private let ledger: Mutex<FairnessLedger>
    let cohorts: DriverCohorts
    private let clock: any DispatchClock
    private let offers: [Counter]
    private let trips: [Counter]
    private let work: [Counter]
    private let workingDrivers: [Gauge]
    private let pairsOffered: [Counter]
    private let pairsPassedOver: [Counter]
    private let gini = Gauge(label: "dispatch_offer_gini")
    /// Seconds of work not yet counted (counters count whole seconds).
    private let carry: Mutex<[Double]>
    private let lastTick: Mutex<Date?> = Mutex(nil)
    private let configured: [String: Int]
    private let noneIndex: Int

    init(settings: FairnessLedger.Settings, cohorts: DriverCohorts, clock: any DispatchClock) {
        let ledger = FairnessLedger(settings: settings)
        self.ledger = Mutex(ledger)
        self.cohorts = cohorts
        self.clock = clock
        let labels = ledger.labels
        configured = Dictionary(uniqueKeysWithValues: settings.cohorts.enumerated().map { ($1, $0) })
        noneIndex = ledger.none
        offers = labels.map { Counter(label: "dispatch_cohort_offers_total", dimensions: [("cohort", $0)]) }
        trips = labels.map { Counter(label: "dispatch_cohort_trips_total", dimensions: [("cohort", $0)]) }
        work = labels.map { Counter(label: "dispatch_cohort_work_seconds_total", dimensions: [("cohort", $0)]) }
        workingDrivers = labels.map { Gauge(label: "dispatch_cohort_drivers_working", dimensions: [("cohort", $0)]) }
        pairsOffered = labels.map {
            Counter(label: "dispatch_fairness_pairs_total", dimensions: [("cohort", $0), ("outcome", "offered")])
        }
        pairsPassedOver = labels.map {
            Counter(label: "dispatch_fairness_pairs_total", dimensions: [("cohort", $0), ("outcome", "passed_over")])
        }
        carry = Mutex(Array(repeating: 0, count: labels.count))
    }

    /// A token's cohort claim as a label index (the ledger's rule, without its lock).
    private func index(_ cohort: String?) -> Int {
        guard let cohort else { return noneIndex }
        return configured[cohort] ?? noneIndex - 1
    }

    /// The cohort labels, in metric order.
    var labels: [String] { ledger.withLock { $0.labels } }

    func publish(_ batch: EventBatch) -> PublishReceipt? {
        let now = clock.now()
        for event in batch.events {
            switch event.kind {
            case .rideOffered:
                guard let offer = event.offer else { continue }
                let ids = [offer.driverID] + offer.explanation.considered.map(\.driverID)
                let indices = cohorts.cohorts(of: ids, now: now).map(index)
                let cohortOf = Dictionary(zip(ids, indices)) { first, _ in first }
                let cohort = indices[0]
                let pairs = ledger.withLock { $0.offered(offer) { cohortOf[$0] ?? cohort } }
                offers[cohort].increment()
                for pair in pairs {
                    pairsOffered[pair.offered].increment()
                    pairsPassedOver[pair.passedOver].increment()
                }
            case .rideCompleted:
                guard let driver = event.driverID else { continue }
                trips[index(cohorts.cohort(of: driver, now: now))].increment()
            default:
                continue
            }
        }
        return nil
    }

    /// Counts the time since the last tick for the drivers at work now, forgets the drivers the
    /// dispatcher forgot, and updates the Gini coefficient.
    func tick(dispatcher: Dispatcher) {
        let now = clock.now()
        let seconds = lastTick.withLock { last in
            defer { last = now }
            return last.map { max(0, now.timeIntervalSince($0)) } ?? 0
        }
        let working = dispatcher.workingDrivers()
        // (No token has named a cohort: every driver counts as `none`, without a lookup each.)
        let named = cohorts.isEmpty ? [] : cohorts.cohorts(of: working, now: now)
        let (counts, idle, coefficient) = ledger.withLock { ledger -> ([Int], [DriverID], Double?) in
            var counts = Array(repeating: 0, count: ledger.labels.count)
            if named.isEmpty {
                counts[noneIndex] = working.count
            } else {
                for cohort in named { counts[index(cohort)] += 1 }
            }
            ledger.worked(working, seconds: seconds)
            return (counts, ledger.idle, ledger.gini)
        }
        if !idle.isEmpty {
            let forgotten = dispatcher.unknownDrivers(among: idle)
            ledger.withLock { $0.forget(forgotten) }
        }
        let whole = carry.withLock { carry -> [Int64] in
            counts.enumerated().map { index, count in
                carry[index] += Double(count) * seconds
                let whole = carry[index].rounded(.down)
                carry[index] -= whole
                return Int64(whole)
            }
        }
        for (index, seconds) in whole.enumerated() where seconds > 0 { work[index].increment(by: seconds) }
        for (index, count) in counts.enumerated() { workingDrivers[index].record(count) }
        if let coefficient { gini.record(coefficient) }
        cohorts.sweep(now: now)
    }

    /// The Gini coefficient now, and how many drivers the ledger follows (for tests and the console).
    var state: (gini: Double?, drivers: Int) { ledger.withLock { ($0.gini, $0.drivers.count) } }
}

/// Ticks the fairness monitor every `interval` (10 s) until shutdown.
struct FairnessTicker: Service {
    let monitor: FairnessMonitor
    let dispatcher: Dispatcher
    var interval: Duration = .seconds(10)

    func run() async {
        await cancelWhenGracefulShutdown {
            monitor.tick(dispatcher: dispatcher)
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                monitor.tick(dispatcher: dispatcher)
            }
        }
    }
}
