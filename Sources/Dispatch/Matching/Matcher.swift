import Geo

/// The matching decisions, as pure functions of a snapshot: rides in request order, each with its
/// candidates (eligible drivers within its radius, nearest first).
enum Matcher {
    /// One ride's candidates.
    typealias Candidates = [SpatialIndex<DriverID>.Neighbor]

    /// A decision: the index of the chosen candidate in the ride's list (0 for the nearest).
    typealias Choice = Int

    /// Greedy: each ride, in order, takes its nearest candidate not already taken.
    static func greedy(_ rides: [Candidates]) -> [Choice?] {
        var taken = Set<DriverID>()
        return rides.map { candidates in
            guard let choice = candidates.firstIndex(where: { !taken.contains($0.key) }) else { return nil }
            taken.insert(candidates[choice].key)
            return choice
        }
    }

    /// Batch: the assignment of rides to distinct candidates that matches as many rides as possible
    /// and, among those, has the smallest total pickup distance.
    static func batch(_ rides: [Candidates]) -> [Choice?] {
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
            positions[row][column].map { rides[row][$0].distance.value }
        }
        return columns.enumerated().map { row, column in column.flatMap { positions[row][$0] } }
    }
}
