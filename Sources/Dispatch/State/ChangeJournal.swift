import DequeModule

/// Which keys changed, in order, numbered: what lets a reader follow a large collection by what changed
/// in it since it last looked, instead of walking all of it.
///
/// Each `record(_:)` appends a key and bumps `sequence`. `changes(since:)` answers the keys recorded
/// after a sequence the reader got earlier, as long as the journal still holds them: it keeps the last
/// `capacity` changes, so its memory is bounded whatever the churn, and a reader that fell further
/// behind is told to read everything again (nil). Keys repeat when a key changed more than once.
public struct ChangeJournal<Key: Hashable & Sendable>: Sendable {
    /// How many changes are kept.
    public let capacity: Int
    /// The number of the last change recorded (0 before the first).
    public private(set) var sequence: UInt64 = 0
    /// The last `capacity` keys recorded, oldest first: the last one is change number `sequence`.
    private var keys: Deque<Key> = []

    /// The number of changes kept by default: 65,536, about 1 MB of short IDs, which covers 16 s of
    /// the full `city` load's 4,000 location reports a second.
    public static var defaultCapacity: Int { 65_536 }

    /// Creates an empty journal keeping the last `capacity` changes (at least one).
    public init(capacity: Int = Self.defaultCapacity) {
        self.capacity = max(1, capacity)
    }

    /// Records that `key` changed.
    /// - Complexity: O(1) amortised.
    public mutating func record(_ key: Key) {
        if keys.count == capacity { keys.removeFirst() }
        keys.append(key)
        sequence += 1
    }

    /// The keys that changed after change number `sequence`, oldest first, or nil when the journal no
    /// longer reaches back that far (or `sequence` is not one it gave): then the reader reads everything.
    /// - Complexity: O(changes returned).
    public func changes(since sequence: UInt64) -> [Key]? {
        guard sequence <= self.sequence else { return nil }
        let missed = self.sequence - sequence
        guard missed <= UInt64(keys.count) else { return nil }
        return Array(keys.suffix(Int(missed)))
    }
}
