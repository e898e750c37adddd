import Foundation
import Synchronization

/// Tokens already verified, so that a signature is checked once per token rather than on every
/// location report (an ES256 verification costs about as much as the report itself).
///
/// Bounded: two generations of at most `capacity / 2` entries each. A lookup that hits the older
/// generation moves the entry to the newer; when the newer is full it becomes the older and the older
/// is dropped. What a client can put here is therefore at most `capacity` entries, whatever it sends,
/// and tokens in use stay in. Each entry is kept only while its token is valid (`Caller.isValid`).
final class VerifiedTokenCache: Sendable {
    private struct Generations {
        var newer: [String: Caller] = [:]
        var older: [String: Caller] = [:]
    }

    private let generations = Mutex(Generations())
    private let generationCapacity: Int

    /// - Parameter capacity: The most tokens held (at least 2).
    init(capacity: Int) {
        generationCapacity = max(1, capacity / 2)
    }

    /// The caller a token was verified as, if it is held.
    func caller(for token: String) -> Caller? {
        generations.withLock { generations in
            if let caller = generations.newer[token] { return caller }
            guard let caller = generations.older.removeValue(forKey: token) else { return nil }
            Self.insert(token, caller, into: &generations, capacity: generationCapacity)
            return caller
        }
    }

    /// Holds a verified token.
    func insert(_ token: String, _ caller: Caller) {
        generations.withLock { Self.insert(token, caller, into: &$0, capacity: generationCapacity) }
    }

    /// Drops a token (one found expired).
    func remove(_ token: String) {
        generations.withLock { generations in
            generations.newer[token] = nil
            generations.older[token] = nil
        }
    }

    /// Drops every token expired at `now`, giving their memory back (a flood of short-lived tokens
    /// leaves nothing behind once they expire).
    /// - Returns: How many were dropped.
    @discardableResult
    func sweep(now: Date) -> Int {
        generations.withLock { generations in
            let before = generations.newer.count + generations.older.count
            func kept(_ entry: (key: String, value: Caller)) -> Bool {
                entry.value.isValid(at: now) || (entry.value.notBefore ?? now) > now
            }
            // New dictionaries sized to what is left (`filter` would keep the old capacity).
            generations.newer = Dictionary(uniqueKeysWithValues: generations.newer.lazy.filter(kept))
            generations.older = Dictionary(uniqueKeysWithValues: generations.older.lazy.filter(kept))
            return before - generations.newer.count - generations.older.count
        }
    }

    /// How many tokens are held.
    var count: Int {
        generations.withLock { $0.newer.count + $0.older.count }
    }

    private static func insert(_ token: String, _ caller: Caller, into generations: inout Generations, capacity: Int) {
        if generations.newer.count >= capacity, generations.newer[token] == nil {
            generations.older = generations.newer
            generations.newer = [:]
            generations.newer.reserveCapacity(capacity)
        }
        generations.newer[token] = caller
    }
}
