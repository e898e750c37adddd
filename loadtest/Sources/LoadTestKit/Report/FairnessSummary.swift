/// Who got the rides, by driver cohort (`Scenario.cohorts`) and across drivers: what the server's
/// fairness metrics measure (`dispatch_cohort_*`, `dispatch_offer_gini`), from the simulated fleet's
/// side. Every simulated driver works the whole run, so a driver-hour is the same for each.
public struct FairnessSummary: Codable, Equatable, Sendable {
    public struct Cohort: Codable, Equatable, Sendable {
        /// The cohort's name, or `none` for drivers whose token names none.
        public var name: String
        public var drivers: Int
        public var offersPerDriverHour: Double
        public var tripsPerDriverHour: Double
        /// The cohort's drivers' mean chance of accepting (their habits differ).
        public var meanAcceptProbability: Double
    }

    public var cohorts: [Cohort]
    /// The Gini coefficient of offers across drivers: 0 when every driver got as many, towards 1 when
    /// a few got them all.
    public var offerGini: Double?
    /// The same of completed trips.
    public var tripGini: Double?

    /// The figures of a fleet that worked `hours`.
    public init(fleet: Fleet, hours: Double) {
        var groups: [String: [SimDriver]] = [:]
        for driver in fleet.drivers { groups[driver.cohort ?? "none", default: []].append(driver) }
        let perHour = { (count: Int, drivers: Int) in
            hours > 0 && drivers > 0 ? Double(count) / (hours * Double(drivers)) : 0
        }
        cohorts = groups.keys.sorted().map { name in
            let drivers = groups[name] ?? []
            return Cohort(
                name: name,
                drivers: drivers.count,
                offersPerDriverHour: perHour(drivers.map(\.offers).reduce(0, +), drivers.count),
                tripsPerDriverHour: perHour(drivers.map(\.trips).reduce(0, +), drivers.count),
                meanAcceptProbability: drivers.map(\.acceptProbability).reduce(0, +) / Double(max(drivers.count, 1))
            )
        }
        offerGini = Self.gini(fleet.drivers.map { Double($0.offers) })
        tripGini = Self.gini(fleet.drivers.map { Double($0.trips) })
    }

    /// The Gini coefficient of non-negative values: nil for fewer than two, 0 when all are zero.
    public static func gini(_ values: [Double]) -> Double? {
        guard values.count >= 2 else { return nil }
        let sorted = values.sorted()
        let total = sorted.reduce(0, +)
        guard total > 0 else { return 0 }
        let n = Double(sorted.count)
        let weighted = sorted.enumerated().reduce(0.0) { $0 + Double($1.offset + 1) * $1.element }
        return 2 * weighted / (n * total) - (n + 1) / n
    }

    /// One line of the summary.
    public var line: String {
        "fairness: "
            + cohorts.map {
                "\($0.name) (\($0.drivers) drivers, accept \(SummaryTable.format(100 * $0.meanAcceptProbability, 0)) %) "
                    + "\(SummaryTable.format($0.offersPerDriverHour, 1)) offers, "
                    + "\(SummaryTable.format($0.tripsPerDriverHour, 1)) trips per driver-hour"
            }.joined(separator: "; ")
            + "; Gini of offers \(offerGini.map { SummaryTable.format($0, 3) } ?? "-"), "
            + "of trips \(tripGini.map { SummaryTable.format($0, 3) } ?? "-")"
    }
}
