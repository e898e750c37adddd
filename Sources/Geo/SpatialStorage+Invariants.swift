extension SpatialStorage {
    /// Every broken internal invariant, described; empty when the storage is consistent.
    ///
    /// Checks that each slot's member is where the slot says and in the cell its coordinate belongs to,
    /// that every live bucket is non-empty and referenced by exactly one block cell, that free lists hold
    /// only unreferenced entries, and that block occupancy counts are right.
    /// - Complexity: O(count + buckets + blocks × 256). For tests.
    func invariantViolations() -> [String] {
        var problems: [String] = []
        var membersSeen = 0
        for slot in places.indices {
            let bucket = Int(places[slot].bucket)
            let position = Int(places[slot].position)
            guard buckets.indices.contains(bucket), buckets[bucket].members.indices.contains(position) else {
                problems.append("slot \(slot) points at bucket \(bucket) position \(position), out of range")
                continue
            }
            let member = buckets[bucket].members[position]
            if member.slot != Int32(slot) { problems.append("slot \(slot)'s member says slot \(member.slot)") }
            let cell = grid.cell(latitude: member.latitude, longitude: member.longitude)
            if cell != buckets[bucket].cell {
                problems.append(
                    "slot \(slot) at \(member.latitude),\(member.longitude) is in bucket of \(buckets[bucket].cell), belongs in \(cell)"
                )
            }
            let expected = Self.member(
                Coordinate(uncheckedLatitude: member.latitude, longitude: member.longitude),
                slot: member.slot
            )
            if expected.x != member.x || expected.y != member.y || expected.z != member.z {
                problems.append("slot \(slot)'s unit vector does not match its coordinate")
            }
        }
        let free = Set(freeBuckets)
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
            let isFree = free.contains(Int32(bucket))
            let references = referenced[Int32(bucket)] ?? 0
            if isFree {
                if references != 0 { problems.append("free bucket \(bucket) is still referenced") }
                if !buckets[bucket].members.isEmpty { problems.append("free bucket \(bucket) has members") }
            } else {
                if references != 1 { problems.append("bucket \(bucket) is referenced \(references) times") }
                if buckets[bucket].members.isEmpty { problems.append("live bucket \(bucket) is empty") }
                membersSeen += buckets[bucket].members.count
            }
        }
        if membersSeen != places.count {
            problems.append("\(membersSeen) members in buckets for \(places.count) slots")
        }
        if Set(blockTable.values).count + freeBlocks.count != blockOccupancy.count {
            problems.append("blocks in use plus free blocks do not add up to \(blockOccupancy.count)")
        }
        return problems
    }
}
