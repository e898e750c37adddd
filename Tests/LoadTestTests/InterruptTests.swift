import Foundation
import Testing

@testable import LoadTestKit

@Suite("Ctrl-C: what a signal does, and the interrupted run's result")
struct InterruptTests {
    @Test("the first signal during a run finishes it early; before, after, or a second time it exits")
    func signals() {
        var state = InterruptState()
        #expect(state.received("SIGINT") == .exitNow, "before the run there is nothing to report")
        #expect(!state.isInterrupted)
        state.start()
        #expect(!state.isInterrupted)
        #expect(state.received("SIGTERM") == .finishEarly)
        #expect(state.isInterrupted)
        #expect(state.signal == "SIGTERM")
        #expect(state.received("SIGINT") == .exitNow, "a second signal exits at once")
        #expect(state.signal == "SIGTERM", "the first signal is the one kept")

        var finished = InterruptState()
        finished.start()
        finished.finish()
        #expect(finished.received("SIGINT") == .exitNow, "once the results are made, a signal exits")
        #expect(!finished.isInterrupted)
    }

    @Test("an interrupt's exit status differs from every other")
    func exitStatus() {
        let others = [ExitStatus.passed, ExitStatus.failed, ExitStatus.usage]
        #expect(!others.contains(ExitStatus.interrupted))
        #expect(ExitStatus.interrupted > 128, "above 128, as a shell reports a process ended by a signal")
    }

    static func result(interruptedAfter: Double?, durationSeconds: Double = 60) -> RunResult {
        var recorder = Recorder()
        for second in 0..<12 {
            recorder.requested(at: Double(second))
            recorder.matched(requestedAt: Double(second), latency: 0.004)
            recorder.locationUpdated(at: Double(second), latency: 0.002)
        }
        var check = ConsistencyCheck()
        check.acknowledged("a", status: "offered")
        check.acknowledged("b", status: "offered")
        var scenario = Scenario()
        scenario.name = "unit"
        scenario.durationSeconds = durationSeconds
        scenario.stepRate = 5
        scenario.stepSeconds = 5
        let offered = ConsistencyCheck.RideOnServer(status: "offered", driverID: nil)
        let read: [String: ConsistencyCheck.RideOnServer?] = ["a": offered, "b": offered]
        return RunResult(
            scenario: scenario,
            target: "http://x",
            matching: "greedy",
            startedAt: "2026-11-25T00:00:00Z",
            elapsedSeconds: 12.5,
            recorder: recorder,
            // Interrupted before the read-back: nothing read.
            consistency: check.verify(server: interruptedAfter == nil ? read : [:], offersWhileBusy: 0),
            server: [],
            interruptedAfter: interruptedAfter
        )
    }

    @Test("the interrupted result says so in its JSON, covers the seconds it sent, and does not pass")
    func interruptedResult() throws {
        let result = Self.result(interruptedAfter: 12.3)
        #expect(result.wasInterrupted)
        #expect(!result.passed)
        #expect(result.requestSeconds == 12.3)
        #expect(result.steps.count == 3, "the steps begun in 12.3 s of 5 s steps")
        #expect(result.consistency.notReadBack == 2)

        let json = try JSONEncoder().encode(result)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["interrupted"] as? Bool == true)
        let decoded = try JSONDecoder().decode(RunResult.self, from: json)
        #expect(decoded.wasInterrupted)
        #expect(decoded.requestSeconds == 12.3)
        #expect(decoded.consistency.notReadBack == 2)

        // A signal after the last request (in the drain or the read-back) counts the whole duration.
        #expect(Self.result(interruptedAfter: 75).requestSeconds == 60)
        #expect(Self.result(interruptedAfter: -2).requestSeconds == 0, "a signal in the warm-up sent nothing")
    }

    @Test("a run to its end says interrupted: false; a result written before the field reads as not interrupted")
    func notInterrupted() throws {
        let result = Self.result(interruptedAfter: nil)
        #expect(!result.wasInterrupted)
        #expect(result.requestSeconds == 60)
        #expect(result.steps.count == 12)
        let json = try JSONEncoder().encode(result)
        var object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["interrupted"] as? Bool == false)
        object["interrupted"] = nil
        let old = try JSONDecoder().decode(RunResult.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(old.interrupted == nil)
        #expect(!old.wasInterrupted)
    }

    @Test("the summary and the HTML mark an interrupted run and what it covers")
    func marked() {
        let interrupted = Self.result(interruptedAfter: 12.3)
        let text = SummaryTable.render(interrupted)
        #expect(text.contains("INTERRUPTED after 12.3 of 60 s of requests"))
        #expect(text.hasSuffix("\nINTERRUPTED"))
        #expect(text.contains("2 not read back (not checked)"))
        // Rates over the seconds requests were sent, not the scenario's duration: 12 requests in 12.3 s.
        #expect(text.contains("rates: 1.0 requests/s"))
        let html = HTMLReport.render([interrupted])
        #expect(html.contains("INTERRUPTED after 12.3 of 60 s"))
        #expect(html.contains("NOT PASSED (interrupted)"))

        let whole = Self.result(interruptedAfter: nil)
        #expect(!SummaryTable.render(whole).contains("INTERRUPTED"))
        #expect(!HTMLReport.render([whole]).contains("INTERRUPTED"))
    }

    @Test("the consistency check counts the rides it could not read back")
    func notReadBack() {
        var check = ConsistencyCheck()
        for id in ["a", "b", "c"] { check.acknowledged(id, status: "offered") }
        let report = check.verify(server: ["a": .some(.init(status: "offered", driverID: nil))], offersWhileBusy: 0)
        #expect(report.notReadBack == 2)
        #expect(report.unfinished == 1)
        #expect(report.passed, "a ride not read back is not counted lost")
    }
}
