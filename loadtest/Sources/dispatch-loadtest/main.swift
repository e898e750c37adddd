import Foundation
import Geo
import LoadTestKit
import NIOHTTP1
import Synchronization

/// `dispatch-loadtest`: runs a scenario against a running dispatch service, or builds a report from
/// result files. Exit status: 0 passed, 1 the run saw errors or lost rides, 2 bad usage or no service.
let usage = """
    usage: dispatch-loadtest --version
           dispatch-loadtest --scenario NAME|FILE [--target URL] [--out DIR] [--server-pid PID]
                             [--failover-retry-seconds S] [--FIELD VALUE ...]
           dispatch-loadtest report RESULT.json [RESULT.json ...] [--out FILE.html]
           dispatch-loadtest channel-bench [--target URL] [--channels N] [--batch B] [--window W] [--seconds S] [--server-pid PID]
           dispatch-loadtest abuse [--target URL] [--drivers N] [--impersonations N] [--token-seconds S]

    Runs a scenario (loadtest/scenarios/NAME.json) against the service at --target (default
    http://127.0.0.1:8080), printing one progress line a second and a summary at the end, and writes
    DIR/NAME-<time>.json and .html (default DIR: loadtest/results). Any scenario field can be overridden
    in kebab case: --drivers 5000 --request-rate 50 --matching batch. --server-pid samples the server's
    CPU and memory from /proc. --failover-retry-seconds retries a call that got no answer or a 503 for
    up to S seconds, as an app does through a failover, and counts what a failover leaves unanswered as
    "failover: ..." apart from errors. `report` draws one HTML report of several runs.
    """

/// Writes a line to standard output at once (unbuffered, so progress shows when piped to a file).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A subcommand's `--name value` pairs, in order.
func optionPairs(_ arguments: [String]) -> [(name: String, value: String)] {
    stride(from: 0, to: arguments.count - 1, by: 2).map { (arguments[$0], arguments[$0 + 1]) }
}

func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("dispatch-loadtest: \(message)\n".utf8))
    exit(status)
}

/// Finds a scenario by file path or by name under the usual directories.
func scenarioFile(_ name: String) -> URL? {
    let manager = FileManager.default
    if manager.fileExists(atPath: name) { return URL(fileURLWithPath: name) }
    let directories =
        [ProcessInfo.processInfo.environment["LOADTEST_SCENARIOS"]].compactMap { $0 }
        + ["loadtest/scenarios", "scenarios", "/etc/dispatch-loadtest/scenarios"]
    for directory in directories {
        let path = "\(directory)/\(name).json"
        if manager.fileExists(atPath: path) { return URL(fileURLWithPath: path) }
    }
    return nil
}

func write(_ text: String, to path: String) {
    do {
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(),
            withIntermediateDirectories: true
        )
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    } catch {
        fail("cannot write \(path): \(error)")
    }
}

func report(_ arguments: [String]) -> Never {
    var files: [String] = []
    var out = "loadtest/results/report.html"
    var index = 0
    while index < arguments.count {
        if arguments[index] == "--out", index + 1 < arguments.count {
            out = arguments[index + 1]
            index += 2
        } else {
            files.append(arguments[index])
            index += 1
        }
    }
    guard !files.isEmpty else { fail(usage) }
    let results = files.map { file -> RunResult in
        guard let data = FileManager.default.contents(atPath: file),
            let result = try? JSONDecoder().decode(RunResult.self, from: data)
        else { fail("\(file) is not a dispatch-loadtest result") }
        return result
    }
    write(HTMLReport.render(results), to: out)
    say("report: \(out)")
    exit(0)
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "report" { report(Array(arguments.dropFirst())) }
if arguments.first == "channel-bench" { await ChannelBench.run(Array(arguments.dropFirst())) }
if arguments.first == "abuse" { await AbuseTest.run(Array(arguments.dropFirst())) }
if arguments.contains("--help") || arguments.contains("-h") {
    say(usage)
    exit(0)
}
if arguments.contains("--version") {
    // The release this load test belongs to: the same as `dispatch-server --version` (scripts/smoke-test).
    say("dispatch-loadtest 0.10.0")
    exit(0)
}

let parsed: (options: [String: String], overrides: [(field: String, value: String)])
let scenario: Scenario
do {
    parsed = try ScenarioLoader.parse(
        arguments: arguments,
        known: ["scenario", "target", "out", "server-pid", "auth-secret", "failover-retry-seconds"]
    )
    guard let name = parsed.options["scenario"] else { fail("--scenario is required\n\(usage)") }
    guard let file = scenarioFile(name) else { fail("no scenario \"\(name)\" (looked in loadtest/scenarios)") }
    guard let data = FileManager.default.contents(atPath: file.path) else { fail("cannot read \(file.path)") }
    scenario = try ScenarioLoader.load(file: data, overrides: parsed.overrides)
} catch {
    fail(error.description)
}
let target = parsed.options["target"] ?? "http://127.0.0.1:8080"
let serverPID = parsed.options["server-pid"].flatMap { Int32($0) }
if parsed.options["server-pid"] != nil, serverPID == nil { fail("--server-pid must be a process ID") }

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
    let secret = try Credentials.secret(
        option: parsed.options["auth-secret"],
        environment: ProcessInfo.processInfo.environment
    )
    credentials = try await Credentials.make(secret: secret)
} catch {
    fail("\(error)")
}
let failoverRetry = parsed.options["failover-retry-seconds"].map { Double($0) }
if let failoverRetry, failoverRetry == nil || failoverRetry ?? 0 <= 0 {
    fail("--failover-retry-seconds must be a positive number of seconds")
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
    failoverRetry: failoverRetry.flatMap { $0 }.map { Duration.milliseconds(Int64($0 * 1_000)) },
    roads: roads
)
if credentials.isEnabled {
    // The fleet's tokens before the first report: the reports and polls cannot wait for one.
    await test.prepareTokens()
} else {
    say("no auth secret (--auth-secret, AUTH_SECRET, AUTH_SECRET_FILE): requests carry no token")
}
guard let result = await test.run() else {
    fail("cannot open connections to \(target)")
}
let summary = SummaryTable.render(result)
say(summary)

let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
let base = "\(parsed.options["out"] ?? "loadtest/results")/\(scenario.name)-\(result.matching)-\(stamp)"
let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
if let json = try? encoder.encode(result) { write(String(decoding: json, as: UTF8.self), to: base + ".json") }
write(HTMLReport.render([result]), to: base + ".html")
say("results: \(base).json, report: \(base).html")
exit(result.passed ? 0 : 1)
