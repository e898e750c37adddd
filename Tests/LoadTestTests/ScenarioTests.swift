import Foundation
import Testing

@testable import LoadTestKit

@Suite("Scenarios: defaults, files, command-line overrides, validation")
struct ScenarioTests {
    @Test("a file's fields replace the defaults; fields it leaves out keep them")
    func fileOverDefaults() throws {
        let scenario = try ScenarioLoader.load(file: Data(#"{"name":"x","drivers":12,"requestRate":3.5}"#.utf8))
        #expect(scenario.name == "x")
        #expect(scenario.drivers == 12)
        #expect(scenario.requestRate == 3.5)
        #expect(scenario.locationIntervalSeconds == Scenario().locationIntervalSeconds)
        #expect(scenario.hotspots == Scenario.seoulHotspots)
    }

    @Test("flags override the file, in kebab case, read as JSON where they parse")
    func overrides() throws {
        let (options, overrides) = try ScenarioLoader.parse(
            arguments: [
                "--scenario", "city", "--request-rate", "50", "--drivers=7", "--matching", "123",
                "--region", #"{"minLat":1,"maxLat":2,"minLng":3,"maxLng":4}"#, "--ramp-to-rate", "null",
            ],
            known: ["scenario"]
        )
        #expect(options == ["scenario": "city"])
        let scenario = try ScenarioLoader.load(
            file: Data(#"{"requestRate":100,"drivers":20000,"rampToRate":9}"#.utf8),
            overrides: overrides
        )
        #expect(scenario.requestRate == 50)
        #expect(scenario.drivers == 7)
        #expect(scenario.matching == "123")  // a string field keeps its text
        #expect(scenario.region == .init(minLat: 1, maxLat: 2, minLng: 3, maxLng: 4))
        #expect(scenario.rampToRate == nil)
    }

    @Test(
        "unknown fields and impossible values are refused with the field named",
        arguments: [
            (#"{"drivrs":1}"#, [String](), "drivrs"),
            ("{}", ["--request-rat", "1"], "request-rat"),
            (#"{"drivers":"many"}"#, [], "drivers"),
            (#"{"acceptProbability":1.5}"#, [], "acceptProbability"),
            (#"{"thinkTimeMinSeconds":3,"thinkTimeMaxSeconds":1}"#, [], "thinkTimeMinSeconds"),
            (#"{"stepRate":10}"#, [], "stepRate"),
            (#"{"spikeRate":10,"spikeAtSeconds":3}"#, [], "spikeRate"),
            (#"{"region":{"minLat":50,"maxLat":40,"minLng":0,"maxLng":1}}"#, [], "minLat"),
            (#"{"durationSeconds":0}"#, [], "durationSeconds"),
            ("[1,2]", [], "JSON object"),
        ]
    )
    func refused(file: String, arguments: [String], mentions: String) throws {
        let overrides = try ScenarioLoader.parse(arguments: arguments, known: []).overrides
        let error = #expect(throws: ScenarioError.self) {
            try ScenarioLoader.load(file: Data(file.utf8), overrides: overrides)
        }
        #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "")")
    }

    @Test("an option without a value, or a stray word, is refused")
    func badCommandLines() {
        #expect(throws: ScenarioError.self) { try ScenarioLoader.parse(arguments: ["--drivers"], known: []) }
        #expect(throws: ScenarioError.self) { try ScenarioLoader.parse(arguments: ["smoke"], known: []) }
    }

    @Test("every shipped scenario loads and is what its name promises")
    func shippedScenarios() throws {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("loadtest/scenarios")
        func load(_ name: String) throws -> Scenario {
            try ScenarioLoader.load(file: try Data(contentsOf: directory.appendingPathComponent("\(name).json")))
        }
        let smoke = try load("smoke")
        #expect(smoke.warmupSeconds + smoke.durationSeconds + smoke.drainSeconds < 60)
        // Every way a driver app hears of offers: the channel, an HTTP stream, polling.
        #expect(smoke.driverChannels > 0 && smoke.driverStreams > 0)
        #expect(smoke.driverChannels + smoke.driverStreams < smoke.drivers)
        let city = try load("city")
        #expect(city.drivers == 20_000 && city.requestRate == 100 && city.durationSeconds == 300)
        #expect(city.drivers / Int(city.locationIntervalSeconds) == 5_000)
        // Channels, event streams and the riders' streams of the rides in flight (~3,700-3,900 measured,
        // ~40 s a ride at 100 requests/s) fit the server's default MAX_CONNECTIONS, 16,000: past it
        // riders' streams would be shed (12,000 channels did not fit).
        let inFlight = Int(city.requestRate * 45)
        #expect(city.driverChannels + city.driverStreams + inFlight + city.httpConnections <= 16_000)
        let doubled = try load("city-2x")
        #expect(Double(doubled.drivers) / doubled.locationIntervalSeconds == 10_000 && doubled.requestRate == 200)
        let peak = try load("peak")
        #expect(peak.stepRate != nil && peak.objectiveP99MatchMs == 100)
        #expect(peak.rateProfile.peakRate > peak.requestRate)
    }

    @Test("kebab and camel case convert both ways")
    func cases() {
        #expect(ScenarioLoader.kebabCase("offerPollSeconds") == "offer-poll-seconds")
        #expect(ScenarioLoader.camelCase("offer-poll-seconds") == "offerPollSeconds")
        for field in ScenarioLoader.fields {
            #expect(ScenarioLoader.camelCase(ScenarioLoader.kebabCase(field)) == field)
        }
    }
}

@Suite("The generator's own health")
struct GeneratorHealthTests {
    @Test("a run is invalid when the generator fell behind its schedule or held calls back")
    func validity() {
        #expect(RunResult.GeneratorHealth(cpuCores: 0.5, tickLagP99: 12, sendLagP99: 3, waits: 0, calls: 10_000).valid)
        let lateTicker = RunResult.GeneratorHealth(
            cpuCores: 1.9,
            tickLagP99: 450,
            sendLagP99: 3,
            waits: 0,
            calls: 10_000
        )
        #expect(!lateTicker.valid)
        #expect(lateTicker.problems.first?.contains("ticker") == true)
        #expect(!RunResult.GeneratorHealth(cpuCores: nil, tickLagP99: 1, sendLagP99: 250, waits: 0, calls: 10).valid)
        // A few waits in a long run are noise; more than one in a thousand calls shaped the figures.
        #expect(RunResult.GeneratorHealth(cpuCores: nil, tickLagP99: 1, sendLagP99: 1, waits: 10, calls: 10_000).valid)
        #expect(!RunResult.GeneratorHealth(cpuCores: nil, tickLagP99: 1, sendLagP99: 1, waits: 11, calls: 10_000).valid)
    }

    @Test("fix times are RFC 3339 with milliseconds, as Foundation formats them")
    func fixTimes() throws {
        let formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for seconds in [0.0, 1_764_547_200.125, 951_782_400.999, 4_102_444_799.5, 1_709_164_800.001] {
            let text = RFC3339.format(secondsSince1970: seconds)
            let parsed = try formatter.parse(text).timeIntervalSince1970
            #expect(abs(parsed - (seconds * 1000).rounded(.down) / 1000) < 0.0005, "\(text)")
        }
        #expect(RFC3339.format(secondsSince1970: 1_764_576_000.25) == "2025-12-01T08:00:00.250Z")
    }
}
