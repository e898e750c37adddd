import AsyncHTTPClient
import Foundation
import LoadTestKit
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The outcome of one call, classified the way the report counts it.
enum CallOutcome: Sendable {
    case success(status: Int, body: Data)
    /// A `409` the protocol allows under races (the offer or ride moved on meanwhile).
    case conflict(code: String)
    /// `503 overloaded`, `database_unavailable` or `not_leader`: the service refused the request before
    /// doing anything, by design, with `Retry-After` (its seconds, when given).
    case shed(retryAfter: Double?)
    /// Anything else: an unexpected status, or no answer at all.
    case failure(kind: String)
    /// The run stopped before the answer came (not counted).
    case cancelled
}

/// Which pool of connections a call uses.
enum CallPool: Int, Sendable, CaseIterable {
    /// Riders' requests and cancellations.
    case riders
    /// Drivers' commands over HTTP.
    case drivers
}

/// The service's HTTP API as rider and driver apps call it: JSON over AsyncHTTPClient.
///
/// Three clients, each with its own connection pool: riders' calls, drivers' calls, and the long-lived
/// event streams, so that neither kind of call ever waits behind the other or behind a stream for a
/// connection. (Location reports and offer polls, the bulk of the traffic, go through
/// `PipelinedClient`; channel drivers through `ChannelConnection`.) The streams have an event-loop
/// thread of their own, keeping their long-lived timers out of the loop that schedules and cancels a
/// timer for every short call. A call that finds its pool's connections all busy waits in the
/// generator: each such call is counted (`waits`), because its latency then includes the generator's
/// own queue.
final class DispatchClient: Sendable {
    let target: String
    /// The tokens each call carries, by the subject it acts as.
    let credentials: Credentials
    private let pools: [HTTPClient]
    private let streams: HTTPClient
    private let loops: [MultiThreadedEventLoopGroup]
    private let connections: Int
    private let inFlight = [HeldCounter(), HeldCounter()]
    private let waitCount = Atomic<Int>(0)
    private let retryCount = Atomic<Int>(0)
    /// With a failover retry budget (`--failover-retry-seconds`): how long a call that found no
    /// leader (no answer, or a `503`) is retried, as an app retries through the Service's address.
    let retryBudget: Duration?
    private let timeout: TimeAmount

    /// Calls that found their pool's connections all busy so far.
    var waits: Int { waitCount.load(ordering: .relaxed) }

    /// Calls retried after no answer or a `503`, so far (with a retry budget only).
    var retries: Int { retryCount.load(ordering: .relaxed) }

    init(
        target: String,
        connections: Int,
        streamConnections: Int,
        credentials: Credentials = .none,
        retryBudget: Duration? = nil
    ) {
        self.target = target.hasSuffix("/") ? String(target.dropLast()) : target
        self.credentials = credentials
        self.retryBudget = retryBudget
        // A call to a leader that stopped answering hangs until this; with retries it is short.
        timeout = retryBudget == nil ? .seconds(30) : .seconds(5)
        self.connections = max(connections, 1)
        let loops = (0..<2).map { _ in MultiThreadedEventLoopGroup(numberOfThreads: 1) }
        self.loops = loops
        func client(_ loop: MultiThreadedEventLoopGroup, connections: Int) -> HTTPClient {
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(
                idleTimeout: .seconds(60),
                concurrentHTTP1ConnectionsPerHostSoftLimit: max(connections, 1)
            )
            configuration.timeout = .init(connect: .seconds(10))
            return HTTPClient(eventLoopGroupProvider: .shared(loop), configuration: configuration)
        }
        pools = CallPool.allCases.map { _ in client(loops[0], connections: connections) }
        streams = client(loops[1], connections: streamConnections)
    }

    func shutdown() async {
        for pool in pools { try? await pool.shutdown() }
        try? await streams.shutdown()
        for loop in loops { try? await loop.shutdownGracefully() }
    }

    /// One call as `subject` (nil: no token, for the probes); `expected` statuses count as success.
    /// With a retry budget, a call that got no answer or a `503` is sent again, unchanged (ride requests
    /// carry their idempotency key), on a new connection, after the service's Retry-After (else 250 ms),
    /// until it gets another answer or the budget is spent.
    func call(
        _ method: HTTPMethod,
        _ path: String,
        as subject: Subject?,
        json body: Data? = nil,
        headers: [(String, String)] = [],
        expected: Set<Int> = [200],
        pool: CallPool = .riders
    ) async -> CallOutcome {
        let started = ContinuousClock.now
        var attempt = headers
        while true {
            let outcome = await once(
                method,
                path,
                as: subject,
                json: body,
                headers: attempt,
                expected: expected,
                pool: pool
            )
            guard let retryBudget, ContinuousClock.now - started < retryBudget, Self.mayRetry(outcome) else {
                return outcome
            }
            retryCount.wrappingAdd(1, ordering: .relaxed)
            // A retry closes its connection after its answer, so that the next one is routed afresh by
            // the Service (the replica that failed may be the one that no longer leads).
            attempt = headers + [("Connection", "close")]
            // As an app does: after the service's Retry-After when it gave one, else soon.
            let pause: Duration =
                if case .shed(let seconds?) = outcome { .milliseconds(Int64(seconds * 1_000)) } else {
                    .milliseconds(250)
                }
            try? await Task.sleep(for: pause)
        }
    }

    /// No answer, or a `503` of any kind: what a leader's failover looks like to a client.
    static func mayRetry(_ outcome: CallOutcome) -> Bool {
        switch outcome {
        case .shed: true
        case .failure(let kind): kind.hasPrefix("transport:") || kind.contains(" 503 ")
        case .success, .conflict, .cancelled: false
        }
    }

    private func once(
        _ method: HTTPMethod,
        _ path: String,
        as subject: Subject?,
        json body: Data? = nil,
        headers: [(String, String)] = [],
        expected: Set<Int> = [200],
        pool: CallPool = .riders
    ) async -> CallOutcome {
        let authorization = if let subject { await credentials.authorization(subject) } else { String?.none }
        let counter = inFlight[pool.rawValue]
        if counter.count.wrappingAdd(1, ordering: .relaxed).oldValue >= connections {
            waitCount.wrappingAdd(1, ordering: .relaxed)
        }
        defer { counter.count.wrappingSubtract(1, ordering: .relaxed) }
        var request = HTTPClientRequest(url: target + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await pools[pool.rawValue].execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let status = Int(response.status.code)
            if expected.contains(status) { return .success(status: status, body: Data(bytes.readableBytesView)) }
            let code =
                (try? JSONDecoder().decode(Wire.ErrorBody.self, from: Data(bytes.readableBytesView)))?.error.code ?? "-"
            if status == 409 { return .conflict(code: code) }
            let retryAfter = response.headers.first(name: "retry-after").flatMap(Double.init)
            if status == 503, Self.refusedUpFront.contains(code) { return .shed(retryAfter: retryAfter) }
            // Retrying through failovers, as an app does: a rate-limited retry waits its Retry-After
            // (its earlier tries may have landed on a replica that refused them).
            if status == 429, retryBudget != nil { return .shed(retryAfter: retryAfter) }
            return .failure(kind: "\(method.rawValue) \(Self.template(path)) \(status) \(code)")
        } catch {
            if error is CancellationError || Task.isCancelled { return .cancelled }
            return .failure(kind: "transport: \(Self.describe(error))")
        }
    }

    /// The `503` codes of a request refused before anything was done: shed under load, refused while
    /// the database is unreachable, or by a replica that does not lead its region. (`commit_timeout` is
    /// not one: that command may have been applied.)
    static let refusedUpFront: Set<String> = ["overloaded", "database_unavailable", "not_leader"]

    /// A request body; the load test's own types always encode.
    static func json(_ value: some Encodable) -> Data {
        (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
    }

    /// Opens an event stream and hands each event to `handle` until the stream ends, `handle` returns
    /// false, or the task is cancelled.
    /// - Returns: Nil when the stream ended (or was left), else why it could not be read.
    func stream(_ path: String, as subject: Subject, handle: (ServerSentEvent) -> Bool) async -> String? {
        var request = HTTPClientRequest(url: target + path)
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let authorization = await credentials.authorization(subject) {
            request.headers.add(name: "Authorization", value: authorization)
        }
        do {
            let response = try await streams.execute(request, timeout: .hours(24))
            guard response.status == .ok else {
                return "GET \(Self.template(path)) \(response.status.code)"
            }
            var parser = ServerSentEventParser()
            var done = false
            for try await chunk in response.body {
                // Once the handler has what it wanted, the rest of the body is read to its end rather
                // than dropped, so the connection goes back to the pool instead of being closed (the
                // service ends a ride's stream right after its final event). A connection per stream
                // cost the generator a socket connect per ride.
                guard !done else { continue }
                for event in parser.feed(chunk.readableBytesView) where !handle(event) {
                    done = true
                    break
                }
            }
            return nil
        } catch is CancellationError {
            return nil
        } catch {
            if Task.isCancelled { return nil }
            return "transport: \(Self.describe(error))"
        }
    }

    /// `/v1/rides/abc/accept` → `/v1/rides/{id}/accept`, so errors and latencies group by endpoint.
    static func template(_ path: String) -> String {
        let withoutQuery = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        let parts = withoutQuery.split(separator: "/", omittingEmptySubsequences: false)
        return parts.enumerated().map { index, part in
            index == 3 && ["rides", "drivers", "riders"].contains(parts[2]) ? "{id}" : String(part)
        }.joined(separator: "/")
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return String(describing: error) }
        return String(describing: type(of: error)) + " " + String(describing: error).prefix(80)
    }
}
