/// When riders request rides: a Poisson process whose rate follows a `RateProfile`, drawn by
/// thinning (candidates at the profile's peak rate, each kept with probability rate(t) / peak).
///
/// The times are fixed before the run and requests are sent at them whatever the server does, so a
/// slow server cannot slow the arrivals down and hide its own latency (no coordinated omission).
public struct ArrivalProcess: Sequence, IteratorProtocol, Sendable {
    private let profile: RateProfile
    private let peak: Double
    private var random: SplitMix64
    private var time = 0.0

    public init(profile: RateProfile, seed: UInt64) {
        self.profile = profile
        self.peak = profile.peakRate
        self.random = SplitMix64(seed: seed)
    }

    /// The next arrival, in seconds after the start, or nil once the run's duration is over.
    public mutating func next() -> Double? {
        guard peak > 0 else { return nil }
        while true {
            time += random.exponential(rate: peak)
            guard time < profile.duration else { return nil }
            if random.unit() * peak < profile.rate(at: time) { return time }
        }
    }
}
