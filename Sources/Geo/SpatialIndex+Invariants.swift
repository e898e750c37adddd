extension SpatialIndex {
    /// Every broken internal invariant, described; empty when the index is consistent. Tests call it
    /// after mutations.
    /// - Complexity: O(count + occupied cells).
    func invariantViolations() -> [String] {
        var (problems, slots) = storage.invariantViolations()
        if keys.count != places.count { problems.append("\(keys.count) keys but \(places.count) places") }
        if slots.count != places.count { problems.append("\(slots.count) stored points for \(places.count) keys") }
        for (key, place) in places {
            guard let slot = slots[place] else {
                problems.append("key \(key)'s place \(place) holds no point")
                continue
            }
            if !keys.indices.contains(Int(slot)) || keys[Int(slot)] != key {
                problems.append("key \(key)'s point records slot \(slot), which holds another key")
            }
        }
        return problems
    }
}

extension SpatialIndex {
    /// An estimate of the heap memory the index holds, in bytes, from the capacities of its arrays and
    /// hash tables. Exported as a metric so operators can compare it with the container's limit.
    /// - Complexity: O(occupied cells).
    public var estimatedMemoryBytes: Int {
        storage.estimatedMemoryBytes + MemoryLayout<Key>.stride * keys.capacity
            + Self.hashTableBytes(
                capacity: places.capacity,
                entryStride: MemoryLayout<Key>.stride + MemoryLayout<SpatialStorage.Place>.stride
            )
    }

    /// Swift's hash tables have a power-of-two bucket count at most 75 % full, plus one bit per bucket.
    static func hashTableBytes(capacity: Int, entryStride: Int) -> Int {
        guard capacity > 0 else { return 0 }
        var buckets = 1
        while buckets * 3 / 4 < capacity { buckets <<= 1 }
        return buckets * entryStride + buckets / 8
    }
}

extension SpatialStorage {
    /// See `SpatialIndex.estimatedMemoryBytes`.
    var estimatedMemoryBytes: Int {
        let arrayHeader = 32
        let memberBytes = buckets.reduce(0) { total, bucket in
            total
                + (bucket.members.capacity > 0
                    ? arrayHeader + bucket.members.capacity * MemoryLayout<Member>.stride : 0)
        }
        return memberBytes
            + MemoryLayout<Bucket>.stride * buckets.capacity + MemoryLayout<Int32>.stride * freeBuckets.capacity
            + MemoryLayout<Int32>.stride * (blockCells.capacity + blockOccupancy.capacity + freeBlocks.capacity)
            + SpatialIndex<Int>.hashTableBytes(
                capacity: blockTable.capacity,
                entryStride: MemoryLayout<UInt64>.stride + MemoryLayout<Int32>.stride
            )
    }
}
