/// Minimum-cost assignment (the Hungarian method, Kuhn–Munkres with Jonker–Volgenant potentials), for
/// batch matching: which driver should each waiting ride be offered so that the total pickup distance
/// is smallest.
///
/// Written here because it is the matching itself, the product, and small: no Swift package in the
/// server ecosystem provides it.
enum Assignment {
    /// Assigns rows to columns, each column at most once.
    ///
    /// Pairs with a nil cost are not allowed. Among all assignments, the result first has as many
    /// allowed pairs as possible, then the smallest total cost over them.
    /// - Parameters:
    ///   - rows: The number of rows (rides).
    ///   - columns: The number of columns (drivers).
    ///   - cost: The cost of a pair (pickup distance), or nil when the pair is not allowed.
    /// - Returns: For each row, its column, or nil when it gets none.
    /// - Complexity: O(n² · m) for n = min(rows, columns), m = max(rows, columns).
    static func minimumCost(rows: Int, columns: Int, cost: (Int, Int) -> Double?) -> [Int?] {
        guard rows > 0, columns > 0 else { return Array(repeating: nil, count: rows) }
        // The algorithm wants n ≤ m: transpose when there are more rides than drivers.
        let transposed = rows > columns
        let n = transposed ? columns : rows
        let m = transposed ? rows : columns
        var matrix = [Double](repeating: 0, count: n * m)
        var allowed = [Bool](repeating: false, count: n * m)
        var largest = 0.0
        for i in 0..<n {
            for j in 0..<m {
                if let value = transposed ? cost(j, i) : cost(i, j) {
                    matrix[i * m + j] = value
                    allowed[i * m + j] = true
                    largest = max(largest, value)
                }
            }
        }
        // A forbidden pair costs more than any assignment of allowed pairs, so the optimum uses as few
        // forbidden pairs as possible; they are dropped from the answer.
        let forbidden = (largest + 1) * Double(n + 1)
        for index in matrix.indices where !allowed[index] { matrix[index] = forbidden }

        let columnOfRow = hungarian(n: n, m: m, matrix: matrix)
        var result = [Int?](repeating: nil, count: rows)
        for i in 0..<n {
            let j = columnOfRow[i]
            guard allowed[i * m + j] else { continue }
            if transposed { result[j] = i } else { result[i] = j }
        }
        return result
    }

    /// The shortest-augmenting-path Hungarian method on a dense n × m matrix, n ≤ m.
    /// - Returns: The column of each row.
    private static func hungarian(n: Int, m: Int, matrix: [Double]) -> [Int] {
        // 1-based arrays: index 0 is the virtual start column.
        var u = [Double](repeating: 0, count: n + 1)
        var v = [Double](repeating: 0, count: m + 1)
        var rowOfColumn = [Int](repeating: 0, count: m + 1)
        var way = [Int](repeating: 0, count: m + 1)
        for row in 1...n {
            rowOfColumn[0] = row
            var column0 = 0
            var minimum = [Double](repeating: .infinity, count: m + 1)
            var used = [Bool](repeating: false, count: m + 1)
            repeat {
                used[column0] = true
                let row0 = rowOfColumn[column0]
                var delta = Double.infinity
                var column1 = 0
                for column in 1...m where !used[column] {
                    let reduced = matrix[(row0 - 1) * m + (column - 1)] - u[row0] - v[column]
                    if reduced < minimum[column] {
                        minimum[column] = reduced
                        way[column] = column0
                    }
                    if minimum[column] < delta {
                        delta = minimum[column]
                        column1 = column
                    }
                }
                for column in 0...m {
                    if used[column] {
                        u[rowOfColumn[column]] += delta
                        v[column] -= delta
                    } else {
                        minimum[column] -= delta
                    }
                }
                column0 = column1
            } while rowOfColumn[column0] != 0
            repeat {
                let column1 = way[column0]
                rowOfColumn[column0] = rowOfColumn[column1]
                column0 = column1
            } while column0 != 0
        }
        var columnOfRow = [Int](repeating: 0, count: n)
        for column in 1...m where rowOfColumn[column] != 0 {
            columnOfRow[rowOfColumn[column] - 1] = column - 1
        }
        return columnOfRow
    }
}
