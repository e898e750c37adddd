import Testing

@testable import LoadTestKit

@Suite("Arrivals: rate profiles and the Poisson process")
struct ArrivalTests {
    @Test("a profile ramps linearly, climbs in steps, and adds a spike only within it")
    func profiles() {
        let ramp = RateProfile(base: 10, rampTo: 30, over: 100)
        #expect(ramp.rate(at: 0) == 10)
        #expect(ramp.rate(at: 50) == 20)
        #expect(ramp.rate(at: 100) == 30)
        let steps = RateProfile(base: 50, over: 100, step: (rate: 50, seconds: 20))
        #expect(steps.rate(at: 19.9) == 50)
        #expect(steps.rate(at: 20) == 100)
        #expect(steps.stepIndex(at: 45) == 2)
        #expect(steps.peakRate == 250)
        let spike = RateProfile(base: 5, over: 60, spike: (rate: 100, at: 10, seconds: 5))
        #expect(spike.rate(at: 9.9) == 5)
        #expect(spike.rate(at: 10) == 105)
        #expect(spike.rate(at: 15) == 5)
        #expect(spike.peakRate == 105)
    }

    @Test("arrivals at a constant rate: the count and the gaps are those of a Poisson process")
    func poisson() {
        let rate = 100.0
        let duration = 200.0
        let times = Array(ArrivalProcess(profile: RateProfile(base: rate, over: duration), seed: 3))
        // Count: mean rate × duration, standard deviation √(rate × duration) ≈ 141; allow 4σ.
        #expect(abs(Double(times.count) - rate * duration) < 4 * (rate * duration).squareRoot())
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
        #expect(times.allSatisfy { $0 >= 0 && $0 < duration })
        // Exponential gaps: mean 1/rate, coefficient of variation 1 (a regular schedule would have 0).
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let variance = gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)
        #expect(abs(mean - 1 / rate) < 0.05 / rate)
        #expect(abs(variance.squareRoot() / mean - 1) < 0.05)
    }

    @Test("a ramp's arrivals follow its rate: the second half gets more than the first")
    func rampArrivals() {
        let times = Array(ArrivalProcess(profile: RateProfile(base: 10, rampTo: 110, over: 100), seed: 9))
        let firstHalf = times.filter { $0 < 50 }.count
        let secondHalf = times.count - firstHalf
        // Expected ∫ rate: 1,750 and 4,250 requests (4 standard deviations of slack).
        #expect(abs(Double(firstHalf) - 1_750) < 170)
        #expect(abs(Double(secondHalf) - 4_250) < 260)
    }

    @Test("the same seed replays the same arrivals; another seed does not")
    func seeded() {
        let profile = RateProfile(base: 20, over: 10)
        #expect(Array(ArrivalProcess(profile: profile, seed: 1)) == Array(ArrivalProcess(profile: profile, seed: 1)))
        #expect(Array(ArrivalProcess(profile: profile, seed: 1)) != Array(ArrivalProcess(profile: profile, seed: 2)))
        #expect(Array(ArrivalProcess(profile: RateProfile(base: 0, over: 10), seed: 1)).isEmpty)
    }
}
