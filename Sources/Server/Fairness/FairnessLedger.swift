import DispatchCore
import Foundation

/// What the fairness metrics are computed from, as a pure value (`FairnessMonitor` feeds it and
/// exports it): which cohort each offer and trip went to, how long each cohort's drivers worked,
/// each driver's offers per hour at work, and, offer by offer, which cohort won when two candidates
/// of different cohorts were equally good.
///
/// "Equally good" is what a ranking blind to cohorts cannot tell apart: ETAs within `etaTolerance`
/// (or `etaFraction` of the larger) and acceptance estimates within `acceptanceTolerance`. Among
/// such comparable pairs a blind policy offers each cohort's driver about half the time; a share
/// far from one half (`DispatchCohortOfferSkew`) is a ranking that favours a cohort for something
/// other than ETA and acceptance, as the one Korea's regulator fined Kakao T for.
struct FairnessLedger: Sendable {
    struct Settings: Sendable, Equatable {
        /// The configured cohorts (`DRIVER_COHORTS`); `other` and `none` follow them.
        var cohorts: [String] = []
        var halfLife: Duration = .seconds(3_600)
        /// Drivers with less decayed time at work than this are left out of the Gini coefficient.
        var minimumWorkSeconds = 600.0
        var etaTolerance = 15.0
        var etaFraction = 0.1
        var acceptanceTolerance = 0.05
    }

    /// One comparable pair of one offer: the cohort offered the ride, and the one passed over.
    struct Pair: Hashable, Sendable {
        let offered: Int
        let passedOver: Int
    }

    let settings: Settings
    /// The cohort labels: the configured ones, then `other`, then `none`.
    let labels: [String]
    var other: Int { labels.count - 2 }
    var none: Int { labels.count - 1 }

    /// Each driver's offers and seconds at work, both decayed with `halfLife`.
    private(set) var drivers: [DriverID: (offers: Double, work: Double)] = [:]
    /// The drivers at work at the last tick.
    private var lastWorking: Set<DriverID> = []

    init(settings: Settings) {
        self.settings = settings
        labels = settings.cohorts + ["other", "none"]
    }

    /// The label index of a token's cohort claim.
    func index(of cohort: String?) -> Int {
        guard let cohort else { return none }
        return settings.cohorts.firstIndex(of: cohort) ?? other
    }

    /// Records an offer: the offered driver's offers, and the comparable pairs it decided.
    /// - Parameter cohort: Each driver's cohort label index.
    mutating func offered(_ offer: Offer, cohort: (DriverID) -> Int) -> [Pair] {
        drivers[offer.driverID, default: (0, 0)].offers += 1
        let considered = offer.explanation.considered
        guard let chosen = considered.first(where: { $0.driverID == offer.driverID }) else { return [] }
        let winner = cohort(chosen.driverID)
        return considered.compactMap { other in
            guard other.driverID != chosen.driverID, comparable(chosen, other) else { return nil }
            let loser = cohort(other.driverID)
            return loser == winner ? nil : Pair(offered: winner, passedOver: loser)
        }
    }

    /// Whether a cohort-blind ranking could not tell two candidates apart.
    func comparable(_ a: OfferExplanation.Candidate, _ b: OfferExplanation.Candidate) -> Bool {
        let (etaA, etaB) = (a.eta.timeInterval, b.eta.timeInterval)
        guard abs(etaA - etaB) <= max(settings.etaTolerance, settings.etaFraction * max(etaA, etaB)) else {
            return false
        }
        switch (a.acceptance, b.acceptance) {
        case (nil, nil): return true
        case (let x?, let y?): return abs(x - y) <= settings.acceptanceTolerance
        default: return false
        }
    }

    /// Decays everything by `seconds` and adds them to the working drivers' time. A driver is
    /// followed from its second tick at work on (or its first offer): one that reported once and went
    /// silent, as a flood of fake drivers does, leaves nothing behind once the next tick has passed.
    mutating func worked(_ working: [DriverID], seconds: Double) {
        let factor = pow(0.5, seconds / settings.halfLife.timeInterval)
        for id in drivers.keys {
            drivers[id]?.offers *= factor
            drivers[id]?.work *= factor
        }
        var seen = Set<DriverID>(minimumCapacity: working.count)
        for id in working {
            seen.insert(id)
            if drivers[id] != nil || lastWorking.contains(id) { drivers[id, default: (0, 0)].work += seconds }
        }
        lastWorking = seen
    }

    /// The followed drivers not at work at the last tick.
    var idle: [DriverID] {
        drivers.keys.filter { !lastWorking.contains($0) }
    }

    /// Forgets drivers: those the dispatcher forgot.
    mutating func forget(_ ids: some Sequence<DriverID>) {
        for id in ids { drivers[id] = nil }
        // A dictionary keeps its capacity: after a flood of drivers is forgotten, give the memory back.
        if drivers.capacity > 4 * drivers.count + 1_024 {
            var kept = [DriverID: (offers: Double, work: Double)](minimumCapacity: drivers.count)
            for (id, figures) in drivers { kept[id] = figures }
            drivers = kept
        }
    }

    /// The Gini coefficient of offers per hour at work across the drivers who worked at least
    /// `minimumWorkSeconds` (decayed): 0 when every driver is offered rides at the same rate, towards
    /// 1 when a few get them all. Nil with fewer than two such drivers.
    var gini: Double? {
        let rates = drivers.values.filter { $0.work >= settings.minimumWorkSeconds }.map { $0.offers / $0.work }
        return Self.gini(rates)
    }

    /// The Gini coefficient of non-negative values (nil for fewer than two, or all zero: 0).
    static func gini(_ values: [Double]) -> Double? {
        guard values.count >= 2 else { return nil }
        let sorted = values.sorted()
        let total = sorted.reduce(0, +)
        guard total > 0 else { return 0 }
        let n = Double(sorted.count)
        let weighted = sorted.enumerated().reduce(0.0) { $0 + Double($1.offset + 1) * $1.element }
        return 2 * weighted / (n * total) - (n + 1) / n
    }
}
