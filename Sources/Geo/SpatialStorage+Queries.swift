#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SpatialStorage {
    /// A point found by a query: its slot and exact great-circle distance from the query centre.
    @usableFromInline
    struct Hit: Sendable {
        @usableFromInline let distance: Double
        @usableFromInline let slot: Int32
        @usableFromInline let coordinate: Coordinate

        init(_ member: Member, distance: Double) {
            self.distance = distance
            self.slot = member.slot
            self.coordinate = Coordinate(uncheckedLatitude: member.latitude, longitude: member.longitude)
        }
    }

    /// A query's centre, prepared once: its unit vector for the pre-filter and its cos(latitude).
    struct Origin {
        let center: Coordinate
        let vector: Member
        let cosLatitude: Double

        init(_ center: Coordinate) {
            self.center = center
            vector = SpatialStorage.member(center, slot: -1)
            cosLatitude = SphericalMath.cosLatitude(center.latitude)
        }

        /// The exact distance to a member, or nil when the `Float` chord pre-filter already shows it is
        /// farther than the chord bound (holes, with NaN vectors, always fail).
        @inline(__always)
        func distance(to member: Member, chordSquared: Float) -> Double? {
            let dx = member.x - vector.x
            let dy = member.y - vector.y
            let dz = member.z - vector.z
            guard dx * dx + dy * dy + dz * dz <= chordSquared else { return nil }
            return SphericalMath.haversineDistance(
                latitude1: center.latitude,
                longitude1: center.longitude,
                cosLatitude1: cosLatitude,
                latitude2: member.latitude,
                longitude2: member.longitude
            )
        }
    }

    /// The `limit` points nearest to `center` within `radius`, ascending by distance, ties broken by
    /// `slotPrecedes` (the caller orders slots by key).
    ///
    /// Searches a small circle first, sized from the density of the centre's cell, and doubles it until
    /// it holds `limit` points or reaches `radius`. Once `limit` points lie within the circle, every
    /// closer point is inside it too, so the answer is exact. Within a scan, a `Float` chord pre-filter
    /// skips points farther than the current `limit`-th best before any trigonometry.
    /// - Complexity: O(c) where c is the number of points in the cells the final circle touches.
    @usableFromInline
    func nearest(
        to center: Coordinate,
        limit: Int,
        radius: Double,
        slotPrecedes: (Int32, Int32) -> Bool
    ) -> [Hit] {
        let origin = Origin(center)
        var best: [Hit] = []
        best.reserveCapacity(min(limit, 256) + 1)
        var searchRadius = initialSearchRadius(around: center, limit: limit, maximum: radius)
        while true {
            best.removeAll(keepingCapacity: true)
            var threshold = searchRadius
            var chordSquared = Self.prefilterChordSquared(threshold)
            forEachMember(in: SphericalCap(center: center, radius: searchRadius)) { member in
                guard let distance = origin.distance(to: member, chordSquared: chordSquared), distance <= threshold
                else { return }
                let hit = Hit(member, distance: distance)
                var index = best.count
                while index > 0, Self.precedes(hit, best[index - 1], slotPrecedes) { index -= 1 }
                guard index < limit else { return }
                best.insert(hit, at: index)
                if best.count > limit { best.removeLast() }
                if best.count == limit, let last = best.last, last.distance < threshold {
                    threshold = last.distance
                    chordSquared = Self.prefilterChordSquared(threshold)
                }
            }
            if best.count >= limit || searchRadius >= radius { return best }
            searchRadius = min(radius, searchRadius * (best.isEmpty ? 4 : 2))
        }
    }

    /// Every point within `radius` of `center`, in no particular order.
    /// - Complexity: O(c) where c is the number of points in the cells the circle touches.
    @usableFromInline
    func all(within radius: Double, of center: Coordinate) -> [Hit] {
        let origin = Origin(center)
        let chordSquared = Self.prefilterChordSquared(radius)
        var hits: [Hit] = []
        forEachMember(in: SphericalCap(center: center, radius: radius)) { member in
            if let distance = origin.distance(to: member, chordSquared: chordSquared), distance <= radius {
                hits.append(Hit(member, distance: distance))
            }
        }
        return hits
    }

    @inline(__always)
    static func precedes(_ lhs: Hit, _ rhs: Hit, _ slotPrecedes: (Int32, Int32) -> Bool) -> Bool {
        lhs.distance < rhs.distance || (lhs.distance == rhs.distance && slotPrecedes(lhs.slot, rhs.slot))
    }

    /// The squared unit-sphere chord that bounds every point within `distance`, plus a margin of
    /// 4e-7 (about 2.5 m) that covers the rounding of the `Float` unit vectors (at most ~2.1e-7), so the
    /// pre-filter never drops a point the exact test would keep.
    @inline(__always)
    static func prefilterChordSquared(_ distance: Double) -> Float {
        let chord = 2 * sin(min(distance, Earth.meanRadius.value * Double.pi) / (2 * Earth.meanRadius.value)) + 4e-7
        return Float(chord * chord)
    }

    /// A first search radius expected to hold about `limit` points, from the density of the centre's
    /// cell; one cell edge when that cell is empty.
    private func initialSearchRadius(around center: Coordinate, limit: Int, maximum: Double) -> Double {
        let cellSize = grid.cellSize
        let pointsInCell = count(inCellOf: center)
        guard pointsInCell > 0 else { return min(maximum, cellSize) }
        let estimate = (Double(limit) * cellSize * cellSize / (Double.pi * Double(pointsInCell))).squareRoot() * 1.25
        return min(maximum, max(cellSize / 8, estimate))
    }

    /// The number of points in the cell containing a coordinate.
    func count(inCellOf coordinate: Coordinate) -> Int {
        let cell = grid.cell(latitude: coordinate.latitude, longitude: coordinate.longitude)
        guard let block = blockTable[CellGrid.blockKey(row: cell.row, column: cell.column)] else { return 0 }
        let bucket = blockCells[
            Int(block) * CellGrid.cellsPerBlock + CellGrid.offsetInBlock(row: cell.row, column: cell.column)
        ]
        return bucket < 0 ? 0 : Int(buckets[Int(bucket)].live)
    }

    /// Calls `body` for every member of every cell that intersects the cap's bounding box, holes
    /// included: a hole's NaN vector fails every distance test, so callers need no extra branch.
    @inline(__always)
    func forEachMember(in cap: SphericalCap, _ body: (Member) -> Void) {
        let side = CellGrid.blockSide
        let shift = CellGrid.blockShift
        let firstRow = grid.row(latitude: cap.minLatitude)
        let lastRow = grid.row(latitude: cap.maxLatitude)
        for rowBlock in (firstRow >> shift)...(lastRow >> shift) {
            let rows = max(firstRow, rowBlock << shift)...min(lastRow, (rowBlock << shift) + side - 1)
            let spans = cap.columnRanges(in: grid, columns: grid.columns(rowBlock: rowBlock))
            func visit(_ span: ClosedRange<Int32>) {
                for columnBlock in (span.lowerBound >> shift)...(span.upperBound >> shift) {
                    let key = UInt64(UInt32(rowBlock)) << 32 | UInt64(UInt32(columnBlock))
                    guard let block = blockTable[key] else { continue }
                    let base = Int(block) * CellGrid.cellsPerBlock
                    let columns =
                        max(
                            span.lowerBound,
                            columnBlock << shift
                        )...min(span.upperBound, (columnBlock << shift) + side - 1)
                    for row in rows {
                        for column in columns {
                            let bucket = blockCells[base + CellGrid.offsetInBlock(row: row, column: column)]
                            guard bucket >= 0 else { continue }
                            for member in buckets[Int(bucket)].members { body(member) }
                        }
                    }
                }
            }
            visit(spans.first)
            if let second = spans.second { visit(second) }
        }
    }
}
