extension SpatialStorage {
    /// Every broken internal invariant, described; empty when the storage is consistent.
    ///
    /// Checks that every point is in the cell its coordinate belongs to with a matching unit vector, that
    /// each bucket's live count and hole list account for all of its members, that every live bucket is
    /// referenced by exactly one block cell and every free one by none, and that block occupancy counts
    /// are right.
    /// - Returns: The problems found, and the slots of the live points (for `SpatialIndex`'s checks).
    /// - Complexity: O(members + buckets + blocks × 256). For tests.
    func invariantViolations() -> (problems: [String], slots: [Place: Int32]) {
        var problems: [String] = []
        var slots: [Place: Int32] = [:]
        let free = Set(freeBuckets)
        for (index, bucket) in buckets.enumerated() {
            if free.contains(Int32(index)) {
                if !bucket.members.isEmpty || bucket.live != 0 { problems.append("free bucket \(index) is not empty") }
                continue
            }
            var holes = Set<Int32>()
            var hole = bucket.firstHole
            while hole >= 0 {
                guard bucket.members.indices.contains(Int(hole)), bucket.members[Int(hole)].isHole,
                    holes.insert(hole).inserted
                else {
                    problems.append("bucket \(index)'s hole list is broken at \(hole)")
                    break
                }
                hole = bucket.members[Int(hole)].nextHole
            }
            var live: Int32 = 0
            for (position, member) in bucket.members.enumerated() {
                if member.isHole {
                    if !holes.contains(Int32(position)) {
                        problems.append("bucket \(index) position \(position) is a hole outside the hole list")
                    }
                    if !member.x.isNaN {
                        problems.append("bucket \(index) position \(position) is a hole with a vector")
                    }
                    continue
                }
                live += 1
                slots[Place(bucket: Int32(index), position: Int32(position))] = member.slot
                let cell = grid.cell(latitude: member.latitude, longitude: member.longitude)
                if cell != bucket.cell {
                    problems.append(
                        "point at \(member.latitude),\(member.longitude) is in bucket of \(bucket.cell), belongs in \(cell)"
                    )
                }
                let expected = Self.member(
                    Coordinate(uncheckedLatitude: member.latitude, longitude: member.longitude),
                    slot: member.slot
                )
                if expected.x != member.x || expected.y != member.y || expected.z != member.z {
                    problems.append("bucket \(index) position \(position): unit vector does not match the coordinate")
                }
            }
            if live != bucket.live { problems.append("bucket \(index) counts \(bucket.live) points, holds \(live)") }
            if live == 0 { problems.append("live bucket \(index) has no points") }
        }
        var referenced = [Int32: Int]()
        for (key, block) in blockTable {
            var occupied: Int32 = 0
            for offset in 0..<CellGrid.cellsPerBlock {
                let bucket = blockCells[Int(block) * CellGrid.cellsPerBlock + offset]
                guard bucket >= 0 else { continue }
                occupied += 1
                referenced[bucket, default: 0] += 1
                let cell = buckets[Int(bucket)].cell
                if CellGrid.blockKey(row: cell.row, column: cell.column) != key
                    || CellGrid.offsetInBlock(row: cell.row, column: cell.column) != offset
                {
                    problems.append("bucket \(bucket) for \(cell) is filed under block \(key) offset \(offset)")
                }
            }
            if occupied != blockOccupancy[Int(block)] {
                problems.append("block \(block) occupancy is \(blockOccupancy[Int(block)]), counted \(occupied)")
            }
            if occupied == 0 { problems.append("block \(block) is in the table but empty") }
        }
        for bucket in buckets.indices {
            let references = referenced[Int32(bucket)] ?? 0
            let expected = free.contains(Int32(bucket)) ? 0 : 1
            if references != expected {
                problems.append("bucket \(bucket) is referenced \(references) times, expected \(expected)")
            }
        }
        if Set(blockTable.values).count + freeBlocks.count != blockOccupancy.count {
            problems.append("blocks in use plus free blocks do not add up to \(blockOccupancy.count)")
        }
        return (problems, slots)
    }
}
