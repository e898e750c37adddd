import Foundation
import Testing

@testable import LoadTestKit

@Suite("Reports: the summary, the JSON result and the self-contained HTML")
struct ReportTests {
    static func result(matching: String, errors: Bool = false) -> RunResult {
        var recorder = Recorder()
        for second in 0..<5 {
            recorder.requested(at: Double(second))
            recorder.matched(requestedAt: Double(second), latency: 0.004)
            recorder.accepted(latency: 1.2, pickupMeters: 800)
            recorder.locationUpdated(at: Double(second), latency: 0.002)
        }
        if errors { recorder.error("POST /v1/rides 503 database_unavailable", at: 1) }
        var check = ConsistencyCheck()
        check.acknowledged("a", status: "offered")
        var scenario = Scenario()
        scenario.name = "unit"
        return RunResult(
            scenario: scenario,
            target: "http://x",
            matching: matching,
            startedAt: "2026-11-25T00:00:00Z",
            elapsedSeconds: 5,
            recorder: recorder,
            consistency: check.verify(
                server: ["a": .some(.init(status: "offered", driverID: nil))],
                offersWhileBusy: 0
            ),
            server: []
        )
    }

    @Test("a run passes only without errors and lost rides, and the summary says which")
    func passing() {
        #expect(Self.result(matching: "greedy").passed)
        let failed = Self.result(matching: "greedy", errors: true)
        #expect(!failed.passed)
        let text = SummaryTable.render(failed)
        #expect(text.contains("POST /v1/rides 503 database_unavailable: 1"))
        #expect(text.hasSuffix("FAILED"))
        #expect(SummaryTable.render(Self.result(matching: "greedy")).contains("match latency (ms)"))
    }

    @Test("the JSON result reads back as it was written")
    func roundTrip() throws {
        let result = Self.result(matching: "batch")
        let decoded = try JSONDecoder().decode(RunResult.self, from: try JSONEncoder().encode(result))
        #expect(decoded.match == result.match)
        #expect(decoded.timeline == result.timeline)
        #expect(decoded.scenario == result.scenario)
        #expect(decoded.count(.matched) == 5)
    }

    @Test("the HTML needs nothing from outside, plots each figure, and compares runs side by side")
    func html() {
        let one = HTMLReport.render([Self.result(matching: "greedy")])
        #expect(!one.contains("<script"))
        #expect(!one.contains("<link"))
        #expect(!one.contains("@import"))
        #expect(one.components(separatedBy: "<svg").count - 1 == 4)
        #expect(one.contains("Latency over time") && one.contains("Latency distribution"))
        let both = HTMLReport.render([Self.result(matching: "greedy"), Self.result(matching: "batch")])
        #expect(both.contains("Side by side"))
        #expect(both.contains("unit / greedy") && both.contains("unit / batch"))
        #expect(!one.contains("Side by side"))
    }

    @Test("text from a scenario is escaped in the HTML")
    func escaping() {
        var result = Self.result(matching: "<b>")
        result.scenario.description = "<script>alert(1)</script>"
        let html = HTMLReport.render([result])
        #expect(!html.contains("<script>alert"))
        #expect(html.contains("&lt;script&gt;"))
    }
}
