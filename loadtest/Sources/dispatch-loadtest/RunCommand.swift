import ArgumentParser
import Foundation
import Geo
import LoadTestKit
import NIOHTTP1

/// `dispatch-loadtest run` (the default subcommand): one scenario against a running service.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs a scenario against the service.",
        discussion: """
            Runs a scenario (loadtest/scenarios/NAME.json, or a file) against the service at --target, \
            printing one progress line a second and a summary at the end, and writes \
            DIR/NAME-MATCHING-<time>.json (the result), .html (the report) and one .hgrm file per \
            latency histogram (HdrHistogram's percentile distribution, in ms: .match.hgrm, \
            .match-at-once.hgrm, .accept.hgrm, .location.hgrm, .send-lag.hgrm, .tick-lag.hgrm, and \
            .endpoint-<method-path>.hgrm per endpoint called).

            Any scenario field can be overridden in kebab case after the options: --drivers 5000 \
            --request-rate 50 --matching batch (or --drivers=5000).

            SIGINT (Ctrl-C) or SIGTERM during the run stops the load at once and still prints the \
            summary and writes the files, marked "interrupted": true; a second one exits at once.

            Exit status: 0 passed; 1 the run saw errors or lost rides; 2 bad usage or no service at \
            --target; 130 interrupted by SIGINT or SIGTERM.
            """
    )

    @Option(
        help: ArgumentHelp("The scenario: a name under loadtest/scenarios, or a JSON file.", valueName: "name|file")
    )
    var scenario: String

    @Option(help: ArgumentHelp("The service's base URL.", valueName: "url"))
    var target = "http://127.0.0.1:8080"

    @Option(help: ArgumentHelp("Where the result files go.", valueName: "dir"))
    var out = "loadtest/results"

    @Option(
        name: .customLong("server-pid"),
        help: ArgumentHelp("Samples the server's CPU and memory from /proc/PID.", valueName: "pid")
    )
    var serverPID: Int32?

    @Option(
        name: .customLong("failover-retry-seconds"),
        help: ArgumentHelp(
            "Retries a call that got no answer or a 503 for up to S seconds, as an app does through a "
                + "failover, and counts what a failover leaves unanswered as \"failover: ...\" apart from errors.",
            valueName: "s"
        )
    )
    var failoverRetrySeconds: Double?

    @Option(
        name: .customLong("auth-secret"),
        help: ArgumentHelp(
            "The HS256 secret the simulated apps' tokens are signed with (else AUTH_SECRET or AUTH_SECRET_FILE).",
            valueName: "secret"
        )
    )
    var authSecret: String?

    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp("Scenario field overrides, in kebab case: --request-rate 50.", valueName: "--field value")
    )
    var overrides: [String] = []

    func validate() throws {
        if let failoverRetrySeconds, !(failoverRetrySeconds > 0) {
            throw ValidationError("--failover-retry-seconds must be a positive number of seconds")
        }
    }

    func run() async throws {
        let scenario: Scenario
        do {
            let parsed = try ScenarioLoader.parse(arguments: overrides, known: [])
            guard let file = scenarioFile(self.scenario) else {
                fail("no scenario \"\(self.scenario)\" (looked in loadtest/scenarios)")
            }
            guard let data = FileManager.default.contents(atPath: file.path) else { fail("cannot read \(file.path)") }
            scenario = try ScenarioLoader.load(file: data, overrides: parsed.overrides)
        } catch {
            fail(error.description)
        }
        let trap = SignalTrap()
        await trap.install()

        // Refuse early, with a clear message, when nothing answers at the target.
        let probe = DispatchClient(target: target, connections: 1, streamConnections: 1)
        if case .failure(let kind) = await probe.call(.GET, "/healthz", as: nil) {
            await probe.shutdown()
            fail("the service at \(target) does not answer /healthz (\(kind))")
        }
        await probe.shutdown()

        say(
            "\(scenario.name): \(scenario.drivers) drivers, \(scenario.requestRate) requests/s for "
                + "\(scenario.durationSeconds) s after a \(scenario.warmupSeconds) s warm-up, against \(target)"
        )
        let credentials: Credentials
        do {
            let secret = try Credentials.secret(option: authSecret, environment: ProcessInfo.processInfo.environment)
            credentials = try await Credentials.make(secret: secret)
        } catch {
            fail("\(error)")
        }
        var roads: RoadGraph?
        if let path = scenario.roadGraph {
            do {
                roads = try RoadGraph(contentsOf: URL(fileURLWithPath: path))
            } catch {
                fail("roadGraph: cannot read \(path): \(error)")
            }
        }
        let test = LoadTest(
            scenario: scenario,
            target: target,
            serverPID: serverPID,
            credentials: credentials,
            failoverRetry: failoverRetrySeconds.map { Duration.milliseconds(Int64($0 * 1_000)) },
            roads: roads,
            trap: trap
        )
        if credentials.isEnabled {
            // The fleet's tokens before the first report: the reports and polls cannot wait for one.
            await test.prepareTokens()
        } else {
            say("no auth secret (--auth-secret, AUTH_SECRET, AUTH_SECRET_FILE): requests carry no token")
        }
        guard let (result, recorder) = await test.run() else {
            fail("cannot open connections to \(target)")
        }
        say(SummaryTable.render(result))

        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let base = "\(out)/\(scenario.name)-\(result.matching)-\(stamp)"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let json = try? encoder.encode(result) { write(String(decoding: json, as: UTF8.self), to: base + ".json") }
        write(HTMLReport.render([result]), to: base + ".html")
        let histograms = PercentileDistribution.latencies(of: recorder).map { entry in
            let path = "\(base).\(entry.name).\(PercentileDistribution.fileExtension)"
            write(PercentileDistribution.text(of: entry.measure), to: path)
            return path
        }
        say("results: \(base).json, report: \(base).html")
        say(
            "latency histograms (HdrHistogram percentile distributions, ms):"
                + histograms.map { "\n  \($0)" }.joined()
        )
        if result.wasInterrupted { throw ExitCode(ExitStatus.interrupted) }
        if !result.passed { throw ExitCode(ExitStatus.failed) }
    }
}
