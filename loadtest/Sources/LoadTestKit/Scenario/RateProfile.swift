/// The request rate over a run: a base rate, optionally ramped linearly or raised in steps, plus an
/// optional spike.
public struct RateProfile: Equatable, Sendable {
    public var base: Double
    public var rampTo: Double?
    /// The run's length, over which a ramp goes from `base` to `rampTo`.
    public var duration: Double
    /// `rate` more requests per second every `seconds`.
    public var step: (rate: Double, seconds: Double)?
    /// `rate` extra requests per second from `at` for `seconds`.
    public var spike: (rate: Double, at: Double, seconds: Double)?

    public init(
        base: Double,
        rampTo: Double? = nil,
        over duration: Double,
        step: (rate: Double, seconds: Double)? = nil,
        spike: (rate: Double, at: Double, seconds: Double)? = nil
    ) {
        self.base = base
        self.rampTo = rampTo
        self.duration = duration
        self.step = step
        self.spike = spike
    }

    /// Requests per second at `time` seconds into the run.
    public func rate(at time: Double) -> Double {
        var rate = base
        if let rampTo, duration > 0 {
            rate += (rampTo - base) * min(max(time / duration, 0), 1)
        }
        if let step, step.seconds > 0 {
            rate += step.rate * (time / step.seconds).rounded(.down)
        }
        if let spike, time >= spike.at, time < spike.at + spike.seconds {
            rate += spike.rate
        }
        return max(rate, 0)
    }

    /// The highest rate anywhere in the run (the envelope that thinning draws candidates from). The
    /// rate is piecewise linear, so its maximum is at a piece's end: the run's ends, the spike's start,
    /// or just before a step boundary.
    public var peakRate: Double {
        let end = max(duration - 1e-9, 0)
        var points = [0, end]
        if let spike, spike.at < duration { points.append(max(spike.at, 0)) }
        if let step, step.seconds > 0 {
            var boundary = step.seconds
            while boundary < duration {
                points.append(boundary)
                points.append(boundary - 1e-9)
                boundary += step.seconds
            }
        }
        return points.map(rate(at:)).max() ?? base
    }

    /// Which step of a staircase `time` falls in (0 without steps).
    public func stepIndex(at time: Double) -> Int {
        guard let step, step.seconds > 0 else { return 0 }
        return Int((max(time, 0) / step.seconds).rounded(.down))
    }

    public static func == (lhs: RateProfile, rhs: RateProfile) -> Bool {
        lhs.base == rhs.base && lhs.rampTo == rhs.rampTo && lhs.duration == rhs.duration
            && lhs.step?.rate == rhs.step?.rate && lhs.step?.seconds == rhs.step?.seconds
            && lhs.spike?.rate == rhs.spike?.rate && lhs.spike?.at == rhs.spike?.at
            && lhs.spike?.seconds == rhs.spike?.seconds
    }
}
