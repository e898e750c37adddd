import Testing

@testable import LoadTestKit

@Suite("Measurements: histograms, the timeline, steps")
struct MeasurementTests {
    @Test("percentiles of known latencies, within HdrHistogram's precision")
    func percentiles() {
        var measure = Measure.latency()
        for millisecond in 1...1_000 { measure.record(seconds: Double(millisecond) / 1_000) }
        let summary = measure.summary
        #expect(summary.count == 1_000)
        #expect(abs(summary.p50 - 500) <= 0.5)
        #expect(abs(summary.p99 - 990) <= 1)
        #expect(abs(summary.max - 1_000) <= 1)
        #expect(abs(summary.mean - 500.5) <= 0.5)
        #expect(Measure.latency().summary.count == 0)
        var distance = Measure.quantity()
        distance.record(1_234.4)
        #expect(distance.summary.p50 == 1_234)
    }

    @Test("latencies land in the second their request was scheduled; warm-up updates only in counts")
    func timeline() {
        var recorder = Recorder()
        recorder.requested(at: 0.2)
        recorder.requested(at: 2.7)
        recorder.matched(requestedAt: 2.7, latency: 0.010)
        recorder.locationUpdated(at: -1, latency: 0.001)
        recorder.locationUpdated(at: 1.5, latency: 0.002)
        recorder.error("x", at: 2.1)
        #expect(recorder.timeline.map(\.requested) == [1, 0, 1])
        #expect(recorder.timeline.map(\.matched) == [0, 0, 1])
        #expect(recorder.timeline.map(\.locationUpdates) == [0, 1, 0])
        #expect(recorder.timeline.map(\.errors) == [0, 0, 1])
        #expect(recorder.value(.locationUpdates) == 2)
        // The warm-up's reports are counted, not measured: their latency is the fleet coming online.
        #expect(recorder.location.count == 1)
        #expect(abs(recorder.timeline[2].match.value(at: 50) - 10) < 0.1)
        var scenario = Scenario()
        scenario.durationSeconds = 2
        let result = RunResult(
            scenario: scenario,
            target: "",
            matching: "",
            startedAt: "",
            elapsedSeconds: 3,
            recorder: recorder,
            consistency: ConsistencyCheck().verify(server: [:], offersWhileBusy: 0),
            server: []
        )
        // One update in the two request seconds; the warm-up's does not count toward the rate.
        #expect(result.locationUpdatesPerSecond == 0.5)
    }

    @Test("a staircase's steps hold while p99, errors and matching do; the sustainable rate is the last held")
    func steps() {
        var scenario = Scenario()
        scenario.durationSeconds = 30
        scenario.requestRate = 10
        scenario.stepRate = 10
        scenario.stepSeconds = 10
        scenario.objectiveP99MatchMs = 100
        var recorder = Recorder()
        for second in 0..<30 {
            for request in 0..<10 {
                let at = Double(second) + Double(request) / 10
                recorder.requested(at: at)
                // Step 0 and 1 fast; step 2 slow.
                recorder.matched(requestedAt: at, latency: second < 20 ? 0.005 : 0.300)
            }
        }
        let steps = RunResult.steps(of: scenario, recorder: recorder)
        #expect(steps.map(\.rate) == [10, 20, 30])
        #expect(steps.map(\.held) == [true, true, false])
        #expect(RunResult.sustainableRate(steps) == 20)
        #expect(RunResult.sustainableRate([]) == nil)
        var failedFirst = steps
        failedFirst[0].held = false
        #expect(RunResult.sustainableRate(failedFirst) == 0)
    }
}
