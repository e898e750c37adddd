import ArgumentParser
import Foundation
import LoadTestKit
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `dispatch-loadtest abuse`: what a hostile client with valid tokens can do, as `scripts/abuse-test`
/// checks it against the real binary.
///
/// 1. Impersonation: one driver's token sends reports for `--impersonations` other drivers' IDs;
///    every one must be refused: `403`, or `429` once the impostor is over its own rate limit.
/// 2. A flood of drivers: `--drivers` distinct driver tokens (living `--token-seconds`) each report
///    once and fall silent; every report must be taken (`204`).
///
/// A request shed under load (`503 overloaded`) is sent again after a pause, as an app honouring
/// `Retry-After` would. Prints one JSON line of the statuses each phase got; exits 1 when a phase got
/// anything else.
struct AbuseTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abuse",
        abstract: "What a hostile client with valid tokens can do (scripts/abuse-test).",
        discussion: """
            1. Impersonation: one driver's token sends reports for --impersonations other drivers' IDs; \
            every one must be refused (403, or 429 once the impostor is over its own rate limit).
            2. A flood of drivers: --drivers distinct driver tokens (living --token-seconds) each report \
            once and fall silent; every report must be taken (204).

            Needs AUTH_SECRET or AUTH_SECRET_FILE. A request shed under load (503) is sent again after \
            a pause. Prints one JSON line of the statuses each phase got.

            Exit status: 0 every phase got what it must; 1 otherwise; 2 bad usage or no service.
            """
    )

    @Option(help: ArgumentHelp("The service's base URL.", valueName: "url"))
    var target = "http://127.0.0.1:8080"

    @Option(help: ArgumentHelp("Distinct drivers in the flood.", valueName: "n"))
    var drivers = 100_000

    @Option(help: ArgumentHelp("Other drivers' IDs the impostor reports for.", valueName: "n"))
    var impersonations = 1_000

    @Option(help: ArgumentHelp("Pipelined HTTP connections (at least 1).", valueName: "n"))
    var connections = 16

    @Option(
        name: .customLong("token-seconds"),
        help: ArgumentHelp("Lifetime of the flood's tokens, in seconds.", valueName: "s")
    )
    var tokenSeconds: TimeInterval = 60

    func run() async throws {
        var options = self
        options.connections = max(1, connections)
        guard let url = URL(string: options.target), let host = url.host else {
            fail("--target must be an http:// URL")
        }
        let credentials: Credentials
        do {
            credentials = try await Credentials.make(
                secret: Credentials.secret(option: nil, environment: ProcessInfo.processInfo.environment),
                lifetime: options.tokenSeconds
            )
        } catch {
            fail("\(error)")
        }
        guard credentials.isEnabled else { fail("abuse needs AUTH_SECRET or AUTH_SECRET_FILE") }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let statuses = Mutex<[String: Int]>([:])
        let answered = Atomic<Int>(0)
        let phase = Mutex("impersonation")
        let shed = Mutex<[PipelinedRequest]>([])
        let client: PipelinedClient
        do {
            client = try await PipelinedClient.connect(
                host: host,
                port: url.port ?? 80,
                connections: options.connections,
                group: group,
                clock: { 0 },
                outcome: { request, status, _, _ in
                    if status == 503 {
                        // Shed under load (503 overloaded, Retry-After): sent again, as an app would.
                        shed.withLock { $0.append(request) }
                    } else {
                        let name = phase.withLock { $0 }
                        statuses.withLock { $0["\(name) \(status.map(String.init) ?? "no answer")", default: 0] += 1 }
                    }
                    answered.wrappingAdd(1, ordering: .relaxed)
                }
            )
        } catch {
            fail("cannot connect to \(options.target): \(error)")
        }
        var sent = 0
        func report(as driver: String, for path: String, authorization: String?) {
            client.send(
                PipelinedRequest(
                    kind: .report,
                    driverID: path,
                    method: .PUT,
                    uri: "/v1/drivers/\(path)/location",
                    body: #"{"lat":37.5\#(Int.random(in: 100...999)),"lng":126.9\#(Int.random(in: 100...999))}"#,
                    dueAt: 0,
                    authorization: authorization
                )
            )
            sent += 1
        }
        /// Waits for every answer, sending shed requests again after a pause (up to ten times).
        func settle() async {
            for round in 0..<11 {
                while answered.load(ordering: .relaxed) < sent { try? await Task.sleep(for: .milliseconds(20)) }
                let again = shed.withLock { requests in
                    defer { requests.removeAll() }
                    return requests
                }
                guard !again.isEmpty else { return }
                if round == 10 {
                    statuses.withLock { $0["shed after ten tries", default: 0] += again.count }
                    return
                }
                try? await Task.sleep(for: .seconds(1))
                for request in again {
                    client.send(request)
                    sent += 1
                }
            }
        }

        let impostor = await credentials.authorization(.driver("abuse-impostor"))
        for number in 0..<options.impersonations {
            report(as: "abuse-impostor", for: "abuse-victim-\(number)", authorization: impostor)
        }
        await settle()
        phase.withLock { $0 = "flood" }
        let started = ContinuousClock.now
        // In slices, so that the tokens minted are dropped as they are used.
        let slice = 5_000
        for first in stride(from: 0, to: options.drivers, by: slice) {
            let ids = (first..<min(first + slice, options.drivers)).map { "abuse-\($0)" }
            await credentials.prepare(ids.map { .driver($0) })
            for id in ids { report(as: id, for: id, authorization: credentials.cached(.driver(id))) }
            await settle()
            credentials.forgetMinted()
        }
        let seconds = (ContinuousClock.now - started).components.seconds
        await client.close()
        try? await group.shutdownGracefully()
        let counts = statuses.withLock { $0 }
        let line = counts.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
        say("{\(line), \"flood seconds\": \(seconds)}")
        let refused = (counts["impersonation 403"] ?? 0) + (counts["impersonation 429"] ?? 0)
        let expected: Set = ["impersonation 403", "impersonation 429", "flood 204"]
        let passed =
            refused == options.impersonations && counts["flood 204"] == options.drivers
            && Set(counts.keys).isSubset(of: expected)
        if !passed { throw ExitCode(ExitStatus.failed) }
    }
}
