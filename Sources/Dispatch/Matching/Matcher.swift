import Geo

/// The matching decisions, as pure functions of a snapshot: rides in request order, each with its
/// candidates (eligible drivers within its radius, best ranked first: see `Ranking`).
enum Matcher {
    /// One driver a ride may be offered to, and what ranks it.
    struct Candidate: Hashable, Sendable {
        let key: DriverID
        let coordinate: Coordinate
        /// The straight-line distance to the pickup.
        let distance: Meters
        /// The time to reach the pickup: by road under `Ranking.eta`, else at the city speed.
        let eta: Duration
        /// What the ranking minimises: metres of distance, seconds of ETA, or the expected seconds until
        /// a driver is on the way (`AcceptanceModel.score`).
        let cost: Double
        /// The chance the driver accepts, under `Ranking.etaAcceptance`.
        let acceptance: Double?
        /// The offer history it was estimated from, decayed to the decision (for the record).
        let history: OfferHistory?

        /// A candidate ranked by its straight-line distance.
        init(_ neighbor: SpatialIndex<DriverID>.Neighbor, eta: Duration) {
            self.init(
                key: neighbor.key,
                coordinate: neighbor.coordinate,
                distance: neighbor.distance,
                eta: eta,
                cost: neighbor.distance.value
            )
        }

        init(
            key: DriverID,
            coordinate: Coordinate,
            distance: Meters,
            eta: Duration,
            cost: Double,
            acceptance: Double? = nil,
            history: OfferHistory? = nil
        ) {
            self.key = key
            self.coordinate = coordinate
            self.distance = distance
            self.eta = eta
            self.cost = cost
            self.acceptance = acceptance
            self.history = history
        }
    }

    /// One ride's candidates, lowest cost first.
    typealias Candidates = [Candidate]

    /// A decision: the index of the chosen candidate in the ride's list (0 for the best ranked).
    typealias Choice = Int

    /// Greedy: each ride, in order, takes its best-ranked candidate not already taken.
    static func greedy(_ rides: [Candidates]) -> [Choice?] {
        var taken = Set<DriverID>()
        return rides.map { candidates in
            guard let choice = candidates.firstIndex(where: { !taken.contains($0.key) }) else { return nil }
            taken.insert(candidates[choice].key)
            return choice
        }
    }

    /// Batch: the assignment of rides to distinct candidates that matches as many rides as possible
    /// and, among those, has the smallest total cost (pickup distance, or pickup ETA).
    ///
    /// Rides that share no candidate, even through other rides, cannot affect each other, so the
    /// rides are split into such groups (connected components) and each group is solved on its own:
    /// across a city the groups are small, and the cubic assignment stays cheap as demand grows.
    static func batch(_ rides: [Candidates]) -> [Choice?] {
        var choices = [Choice?](repeating: nil, count: rides.count)
        for group in independentGroups(rides) {
            let solved = optimalAssignment(group.map { rides[$0] })
            for (position, ride) in group.enumerated() { choices[ride] = solved[position] }
        }
        return choices
    }

    /// The optimal assignment for one group of rides.
    private static func optimalAssignment(_ rides: [Candidates]) -> [Choice?] {
        var columnOfDriver: [DriverID: Int] = [:]
        for candidates in rides {
            for candidate in candidates where columnOfDriver[candidate.key] == nil {
                columnOfDriver[candidate.key] = columnOfDriver.count
            }
        }
        // Row i's candidate in column j, as its position in the ride's list.
        let positions: [[Int: Int]] = rides.map { candidates in
            var positions: [Int: Int] = [:]
            for (position, candidate) in candidates.enumerated() {
                if let column = columnOfDriver[candidate.key], positions[column] == nil { positions[column] = position }
            }
            return positions
        }
        let columns = Assignment.minimumCost(rows: rides.count, columns: columnOfDriver.count) { row, column in
            positions[row][column].map { rides[row][$0].cost }
        }
        return columns.enumerated().map { row, column in column.flatMap { positions[row][$0] } }
    }

    /// Groups of rides (indices, in order) connected through shared candidates (union-find).
    static func independentGroups(_ rides: [Candidates]) -> [[Int]] {
        var parent = Array(rides.indices)
        func root(_ ride: Int) -> Int {
            var ride = ride
            while parent[ride] != ride {
                parent[ride] = parent[parent[ride]]
                ride = parent[ride]
            }
            return ride
        }
        var firstRideOfDriver: [DriverID: Int] = [:]
        for (ride, candidates) in rides.enumerated() {
            for candidate in candidates {
                if let other = firstRideOfDriver[candidate.key] {
                    let (a, b) = (root(ride), root(other))
                    if a != b { parent[max(a, b)] = min(a, b) }
                } else {
                    firstRideOfDriver[candidate.key] = ride
                }
            }
        }
        var groups: [Int: [Int]] = [:]
        for ride in rides.indices { groups[root(ride), default: []].append(ride) }
        return groups.keys.sorted().compactMap { groups[$0] }
    }
}
