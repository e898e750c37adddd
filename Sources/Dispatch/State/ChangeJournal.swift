import DequeModule

/// Which keys changed since its reader last looked: what lets the operators' map follow a large
/// collection by what changed in it, instead of walking all of it.
///
/// One reader follows it. Each `record(_:)` bumps `sequence`, and while the reader follows, appends the
/// key. `take(since:)` hands the reader the keys recorded after the sequence it got last time and
/// forgets them, so the journal holds only what changed between two reads. It records nothing until a
/// reader first asks, and a reader that does not come back before `capacity` changes pile up is let
/// go: the journal empties itself (giving its memory back) and stops, and the reader's next call
/// starts over from a complete read (nil). So nothing a client does can make it hold more than
/// `capacity` keys, and none once nobody watches.
public struct ChangeJournal<Key: Hashable & Sendable>: Sendable {
    /// The most keys held between two reads.
    public let capacity: Int
    /// The number of the last change recorded (0 before the first).
    public private(set) var sequence: UInt64 = 0
    /// Whether a reader follows: only then are keys kept.
    public private(set) var isFollowed = false
    /// The keys recorded since the last read, oldest first: the last one is change number `sequence`.
    private var keys: Deque<Key> = []

    /// The most keys held by default: 65,536, about 1 MB of short IDs, 16 s of the full `city` load's
    /// 4,000 location reports a second (the console reads twice a second).
    public static var defaultCapacity: Int { 65_536 }

    /// Creates an empty journal that holds at most `capacity` keys (at least one) between reads.
    public init(capacity: Int = Self.defaultCapacity) {
        self.capacity = max(1, capacity)
    }

    /// Records that `key` changed.
    /// - Complexity: O(1) amortised.
    public mutating func record(_ key: Key) {
        sequence += 1
        guard isFollowed else { return }
        guard keys.count < capacity else {
            // The reader fell too far behind: let it go, and give the memory back.
            keys = []
            isFollowed = false
            return
        }
        keys.append(key)
    }

    /// The keys that changed after change number `sequence`, oldest first, and forgets them; or nil
    /// when the journal cannot tell (no `sequence`, one it did not give, or the reader was let go):
    /// then the reader reads everything, and the journal follows from the current `sequence` on.
    /// Keys repeat when a key changed more than once.
    /// - Complexity: O(changes returned).
    public mutating func take(since sequence: UInt64?) -> [Key]? {
        guard isFollowed, let sequence, sequence <= self.sequence, self.sequence - sequence == UInt64(keys.count)
        else {
            keys = []
            isFollowed = true
            return nil
        }
        defer { keys.removeAll(keepingCapacity: true) }
        return Array(keys)
    }
}
