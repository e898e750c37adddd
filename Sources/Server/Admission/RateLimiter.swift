import CoreMetrics
import DispatchCore
import Foundation
import HTTPTypes
import Synchronization

/// What a caller's requests are limited as, each kind with its own bucket.
enum RateLimitedAction: String, Sendable, CaseIterable {
    /// Location reports, over HTTP or the driver channel.
    case locationReport = "location_report"
    /// `POST /v1/rides`.
    case rideRequest = "ride_request"
    /// Every other command and read (a stream counts once, when it opens).
    case request
}

/// One token bucket's shape: `rate` tokens a second, at most `burst` saved up.
struct RateLimit: Sendable, Equatable {
    var perSecond: Double
    var burst: Int
}

/// The limits per subject (`RATE_*`); defaults sized so that an honest app, and the load test's
/// simulated ones, never meet them.
struct RateLimitPolicy: Sendable, Equatable {
    /// A driver's location reports: 2 a second sustained (an app reports every 1-5 s), bursts of 10.
    var locationReports = RateLimit(perSecond: 2, burst: 10)
    /// A rider's ride requests: 6 a minute, bursts of 3.
    var rideRequests = RateLimit(perSecond: 0.1, burst: 3)
    /// Everything else a rider or driver asks: 10 a second, bursts of 30.
    var requests = RateLimit(perSecond: 10, burst: 30)
    /// The most subjects whose buckets are remembered; past it, full buckets are forgotten first.
    var maximumSubjects = 200_000

    func limit(_ action: RateLimitedAction) -> RateLimit {
        switch action {
        case .locationReport: locationReports
        case .rideRequest: rideRequests
        case .request: requests
        }
    }
}

/// Per-subject token buckets: each rider and driver gets `RateLimitPolicy`'s rates, whichever path
/// its requests take (the edge, the router, the driver channel). Operators are not limited: their
/// tokens are few, short-lived and issued to staff, and every act of theirs is recorded.
///
/// Memory is bounded: a bucket that has refilled holds nothing worth keeping, so when the table
/// reaches `maximumSubjects` full buckets are dropped; if more than three quarters remain, the least
/// recently used go (those subjects start again with a full bucket, which errs on serving them).
///
/// Sharded by subject, so the edge's threads seldom wait for one another.
final class RateLimiter: Sendable {
    let policy: RateLimitPolicy
    private let clock: any DispatchClock
    private let shards: [Shard]
    private let refused: [RateLimitedAction: Counter]

    private struct Key: Hashable {
        let action: RateLimitedAction
        let subject: String
    }

    private struct Bucket {
        var tokens: Double
        var updatedAt: Date
    }

    /// One lock's share of the buckets.
    private final class Shard: Sendable {
        let buckets = Mutex<[Key: Bucket]>([:])
    }

    private static let shardCount = 16

    /// Creates the buckets.
    /// - Parameters:
    ///   - policy: The limits.
    ///   - clock: The time buckets refill by (tests pass a manual one).
    init(policy: RateLimitPolicy, clock: any DispatchClock) {
        self.policy = policy
        self.clock = clock
        self.shards = (0..<Self.shardCount).map { _ in Shard() }
        self.refused = Dictionary(
            uniqueKeysWithValues: RateLimitedAction.allCases.map {
                ($0, Counter(label: "dispatch_rate_limited_total", dimensions: [("action", $0.rawValue)]))
            }
        )
    }

    /// Takes one token from the caller's bucket for an action.
    /// - Returns: nil when the request may go on, else the `429 rate_limited` to answer.
    func admit(_ action: RateLimitedAction, for caller: Caller) -> APIError? {
        guard caller.role != .ops else { return nil }
        let limit = policy.limit(action)
        let key = Key(action: action, subject: caller.subject)
        let now = clock.now()
        let perShard = max(1, policy.maximumSubjects / Self.shardCount)
        let wait: TimeInterval? = shards[Self.shard(of: caller.subject)].buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: Double(limit.burst), updatedAt: now)
            // A clock stepped back refills nothing.
            let elapsed = max(0, now.timeIntervalSince(bucket.updatedAt))
            bucket.tokens = min(Double(limit.burst), bucket.tokens + elapsed * limit.perSecond)
            bucket.updatedAt = now
            let wait: TimeInterval?
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                wait = nil
            } else {
                wait = (1 - bucket.tokens) / limit.perSecond
            }
            if buckets[key] == nil, buckets.count >= perShard { makeRoom(in: &buckets, now: now) }
            buckets[key] = bucket
            return wait
        }
        guard let wait else { return nil }
        refused[action]?.increment()
        return APIError.rateLimited(action, retryAfterSeconds: max(1, Int(wait.rounded(.up))))
    }

    /// Forgets every bucket that has refilled (it holds nothing a new one would not), giving the
    /// memory of a burst of callers back (the housekeeping service calls it).
    /// - Returns: How many were forgotten.
    @discardableResult
    func sweep() -> Int {
        let now = clock.now()
        return shards.reduce(0) { total, shard in
            total
                + shard.buckets.withLock { buckets in
                    let before = buckets.count
                    buckets = Dictionary(
                        uniqueKeysWithValues: buckets.lazy.filter { !isFull($0.key, $0.value, now: now) }
                    )
                    return before - buckets.count
                }
        }
    }

    private func isFull(_ key: Key, _ bucket: Bucket, now: Date) -> Bool {
        let limit = policy.limit(key.action)
        let elapsed = max(0, now.timeIntervalSince(bucket.updatedAt))
        return bucket.tokens + elapsed * limit.perSecond >= Double(limit.burst)
    }

    /// How many buckets are remembered, for tests and the memory bound.
    var rememberedBuckets: Int {
        shards.reduce(0) { total, shard in total + shard.buckets.withLock { $0.count } }
    }

    private static func shard(of subject: String) -> Int {
        var hasher = Hasher()
        hasher.combine(subject)
        return Int(UInt(bitPattern: hasher.finalize()) % UInt(shardCount))
    }

    /// Drops the buckets that have refilled, then, while more than three quarters of the room is
    /// taken, the least recently used: so the scan runs at most once per quarter of the room.
    private func makeRoom(in buckets: inout [Key: Bucket], now: Date) {
        let room = buckets.count
        buckets = Dictionary(uniqueKeysWithValues: buckets.lazy.filter { !isFull($0.key, $0.value, now: now) })
        let excess = buckets.count - room * 3 / 4
        guard excess > 0 else { return }
        let oldest = buckets.sorted { $0.value.updatedAt < $1.value.updatedAt }.prefix(excess)
        for (key, _) in oldest { buckets[key] = nil }
    }
}

extension APIError {
    /// `429 rate_limited`, with `Retry-After`.
    static func rateLimited(_ action: RateLimitedAction, retryAfterSeconds: Int) -> APIError {
        let what =
            switch action {
            case .locationReport: "location reports"
            case .rideRequest: "ride requests"
            case .request: "requests"
            }
        return APIError(
            .tooManyRequests,
            code: "rate_limited",
            "too many \(what) from this caller; retry after \(retryAfterSeconds) s",
            retryAfterSeconds: retryAfterSeconds
        )
    }
}
