import DispatchCore
import Foundation
import Synchronization

/// Which cohort each driver's token names (`cohort` claim), as the tokens are verified: what the
/// fairness metrics group drivers by. A label lasts while its token is valid; a driver re-verified
/// with a token without one falls back to `none`.
///
/// Bounded: at most `capacity` drivers (`MAX_DRIVERS`), and `sweep` forgets expired labels.
final class DriverCohorts: Sendable {
    private let labels = Mutex<[DriverID: (cohort: String, until: Date)]>([:])
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Notes a freshly verified caller's cohort (its token's claim), if it is a driver.
    func note(_ caller: Caller, cohort: String?) {
        // The common case costs a lock and nothing more: no cohort, and none noted before.
        guard caller.role == .driver, cohort != nil || !isEmpty, let driver = caller.driverID else { return }
        labels.withLock { labels in
            guard let cohort else {
                labels[driver] = nil
                return
            }
            guard labels[driver] != nil || labels.count < capacity else { return }
            labels[driver] = (cohort, caller.expiresAt)
        }
    }

    /// The cohort a driver's token named, while that token is valid.
    func cohort(of driver: DriverID, now: Date) -> String? {
        labels.withLock { labels in labels[driver].flatMap { $0.until > now ? $0.cohort : nil } }
    }

    /// The cohorts of several drivers, under one lock.
    func cohorts(of drivers: [DriverID], now: Date) -> [String?] {
        labels.withLock { labels in drivers.map { labels[$0].flatMap { $0.until > now ? $0.cohort : nil } } }
    }

    /// Forgets the labels whose tokens have expired.
    func sweep(now: Date) {
        labels.withLock { labels in labels = labels.filter { $0.value.until > now } }
    }

    var count: Int { labels.withLock { $0.count } }

    /// Whether no token has named a cohort (or all such tokens have expired).
    var isEmpty: Bool { labels.withLock { $0.isEmpty } }
}
