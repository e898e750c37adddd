import ArgumentParser
import DequeModule
import Foundation
import LoadTestKit
import NIOCore
import NIOPosix
import Synchronization

/// `dispatch-loadtest channel-bench`: location reports over driver channels as fast as the service
/// acknowledges them, closed loop (like `redis-benchmark` against `GEOADD`).
///
/// Each of `--channels` connections is the channel of one driver (`d1`, `d2`, …, the IDs
/// `Benchmarks/http/location-updates.lua` loads). A message holds `--batch` reports (one per line,
/// random points over Seoul); every `--ack-every`-th message carries an `id` on its last line, so the
/// service acknowledges it, and each channel keeps `--window` acknowledged messages in flight. Prints
/// one Markdown table row: channels, batch, ack-every, window, reports per second, messages per
/// second, acknowledgement latency p50 and p99, errors, closed channels, and the CPU the generator
/// (and, with `--server-pid`, the server) used, in cores.
struct ChannelBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel-bench",
        abstract: "Location reports over driver channels as fast as the service acknowledges them.",
        discussion: """
            Closed loop, like redis-benchmark against GEOADD. Each of --channels connections is the \
            channel of one driver (d1, d2, …, the IDs Benchmarks/http/location-updates.lua loads). A \
            message holds --batch reports; every --ack-every-th message asks for an acknowledgement, \
            and each channel keeps --window acknowledged messages in flight. With AUTH_SECRET (or \
            AUTH_SECRET_FILE) set, each channel carries its driver's token.

            Prints one Markdown table row: channels, batch, ack-every, window, reports/s, messages/s, \
            acknowledgement latency p50 and p99, errors, closed channels, generator CPU and (with \
            --server-pid) server CPU, in cores.

            Exit status: 0 no errors and no channel closed; 1 otherwise; 2 bad usage or no service.
            """
    )

    @Option(help: ArgumentHelp("The service's base URL.", valueName: "url"))
    var target = "http://127.0.0.1:8080"

    @Option(help: ArgumentHelp("Driver channels (connections) to open.", valueName: "n"))
    var channels = 50

    @Option(help: ArgumentHelp("Location reports per message (at least 1).", valueName: "b"))
    var batch = 1

    @Option(help: ArgumentHelp("Acknowledged messages each channel keeps in flight (at least 1).", valueName: "w"))
    var window = 1

    /// Every how many messages one asks for an acknowledgement (the others are sent without an
    /// `id`, as an app that needs no answer to each report sends them).
    @Option(
        name: .customLong("ack-every"),
        help: ArgumentHelp("Every how many messages one asks for an acknowledgement (at least 1).", valueName: "n")
    )
    var ackEvery = 1

    @Option(help: ArgumentHelp("How long to send, in seconds.", valueName: "s"))
    var seconds = 20.0

    @Option(
        name: .customLong("server-pid"),
        help: ArgumentHelp("Measures the server's CPU from /proc/PID too.", valueName: "pid")
    )
    var serverPID: Int32?

    private struct Connection {
        var sentAt = Deque<ContinuousClock.Instant>()
    }

    private struct State {
        var connections: [String: Connection] = [:]
        var latency = Measure.latency()
        var acknowledged = 0
        var errors = 0
        var closed = 0
        var running = true
        var nextMessage = 0
    }

    func run() async throws {
        var options = self
        options.batch = max(1, batch)
        options.window = max(1, window)
        options.ackEvery = max(1, ackEvery)
        let batch = options.batch
        let ackEvery = options.ackEvery
        guard let url = URL(string: options.target), let host = url.host else {
            fail("--target must be an http:// URL")
        }
        let port = url.port ?? 80
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = Mutex(State())
        let connections = Mutex<[String: ChannelConnection]>([:])

        // Messages are drawn from a pool made before the run, so the generator spends its time sending.
        var random = SplitMix64(seed: 42)
        let pool: [(plain: ByteBuffer, acknowledged: ByteBuffer)] = (0..<4_096).map { number in
            func text(acknowledged: Bool) -> ByteBuffer {
                var lines: [String] = []
                for line in 0..<batch {
                    let lat = 37.42 + random.uniform(0...0.28)
                    let lng = 126.76 + random.uniform(0...0.42)
                    let id = acknowledged && line == batch - 1 ? #","id":"m\#(number)""# : ""
                    lines.append(#"{"type":"location","lat":\#(lat),"lng":\#(lng)\#(id)}"#)
                }
                return ByteBuffer(string: lines.joined(separator: "\n"))
            }
            return (text(acknowledged: false), text(acknowledged: true))
        }
        @Sendable func send(on driverID: String) {
            let number = state.withLock { state -> Int? in
                guard state.running else { return nil }
                state.connections[driverID, default: Connection()].sentAt.append(.now)
                state.nextMessage += 1
                return state.nextMessage
            }
            guard let number, let connection = connections.withLock({ $0[driverID] }) else { return }
            for offset in 1..<ackEvery { connection.send(pool[(number &+ offset) % pool.count].plain) }
            connection.send(pool[number % pool.count].acknowledged)
        }
        let receive: ChannelConnection.Receive = { driverID, text in
            let view = text.readableBytesView
            let isAck = view.starts(with: Array(#"{"id":"#.utf8))
            let isError = !isAck && String(buffer: text).contains(#""type":"error""#)
            guard isAck || isError else { return }  // hello, events
            state.withLock { state in
                guard let sent = state.connections[driverID]?.sentAt.popFirst() else { return }
                if isAck {
                    state.acknowledged += 1
                    state.latency.record(seconds: (ContinuousClock.now - sent).timeInterval)
                } else {
                    state.errors += 1
                }
            }
            send(on: driverID)
        }
        let closed: ChannelConnection.Closed = { _ in state.withLock { $0.closed += 1 } }

        let drivers = (1...options.channels).map { "d\($0)" }
        // With AUTH_SECRET (or AUTH_SECRET_FILE) set, each channel carries its driver's token.
        let credentials: Credentials
        do {
            credentials = try await Credentials.make(
                secret: Credentials.secret(option: nil, environment: ProcessInfo.processInfo.environment)
            )
        } catch {
            fail("\(error)")
        }
        for driver in drivers {
            do {
                let connection = try await ChannelConnection.connect(
                    host: host,
                    port: port,
                    driverID: driver,
                    path: "/v1/drivers/\(driver)/channel",
                    authorization: await credentials.authorization(.driver(driver)),
                    group: group,
                    receive: receive,
                    closed: closed
                )
                connections.withLock { $0[driver] = connection }
            } catch {
                fail("cannot open the channel of \(driver): \(error)")
            }
        }
        let cpuBefore = (ProcessCPU.seconds(pid: nil), options.serverPID.map { ProcessCPU.seconds(pid: $0) })
        let started = ContinuousClock.now
        for driver in drivers {
            for _ in 0..<options.window { send(on: driver) }
        }
        try? await Task.sleep(for: .seconds(options.seconds))
        let elapsed = (ContinuousClock.now - started).timeInterval
        let result = state.withLock { state in
            state.running = false
            return (state.acknowledged, state.errors, state.closed, state.latency)
        }
        let generatorCPU = (ProcessCPU.seconds(pid: nil) - cpuBefore.0) / elapsed
        let serverCPU = options.serverPID.map { (ProcessCPU.seconds(pid: $0) - (cpuBefore.1 ?? 0)) / elapsed }
        for connection in connections.withLock({ Array($0.values) }) { connection.close() }
        try? await group.shutdownGracefully()
        let reports = Double(result.0 * options.batch * options.ackEvery) / elapsed
        say(
            String(
                format: "| %d | %d | %d | %d | %.0f | %.0f | %.2f ms | %.2f ms | %d | %d | %.2f | %@ |",
                options.channels,
                options.batch,
                options.ackEvery,
                options.window,
                reports,
                Double(result.0 * options.ackEvery) / elapsed,
                result.3.value(at: 50),
                result.3.value(at: 99),
                result.1,
                result.2,
                generatorCPU,
                serverCPU.map { String(format: "%.2f", $0) } ?? "-"
            )
        )
        if result.1 > 0 || result.2 > 0 { throw ExitCode(ExitStatus.failed) }
    }
}

/// CPU time of a process (this one when `pid` is nil), from `/proc/<pid>/stat`.
enum ProcessCPU {
    static func seconds(pid: Int32?) -> Double {
        let path = "/proc/\(pid.map(String.init) ?? "self")/stat"
        guard let stat = try? String(contentsOfFile: path, encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return 0
        }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / 100
    }
}

extension Duration {
    /// Seconds, as the load test counts time.
    var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
