import AsyncHTTPClient
import Foundation
import LoadTestKit
import NIOCore
import NIOHTTP1
import NIOPosix

/// The outcome of one call, classified the way the report counts it.
enum CallOutcome: Sendable {
    case success(status: Int, body: Data)
    /// A `409` the protocol allows under races (the offer or ride moved on meanwhile).
    case conflict(code: String)
    /// Anything else: an unexpected status, or no answer at all.
    case failure(kind: String)
    /// The run stopped before the answer came (not counted).
    case cancelled
}

/// The service's HTTP API as rider and driver apps call it: JSON over AsyncHTTPClient.
///
/// Two clients, each with its own connection pool and event-loop thread: calls, and the long-lived
/// event streams. (Location reports, the bulk of the traffic, go through `LocationFirehose`.) Separate
/// event loops keep the streams' long-lived timers out of the loop that schedules and cancels a timer
/// for every short call.
final class DispatchClient: Sendable {
    let target: String
    private let calls: HTTPClient
    private let streams: HTTPClient
    private let loops: [MultiThreadedEventLoopGroup]
    private static let timeout = TimeAmount.seconds(30)

    init(target: String, connections: Int, streamConnections: Int) {
        self.target = target.hasSuffix("/") ? String(target.dropLast()) : target
        loops = (0..<2).map { _ in MultiThreadedEventLoopGroup(numberOfThreads: 1) }
        func client(_ loop: MultiThreadedEventLoopGroup, connections: Int) -> HTTPClient {
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(
                idleTimeout: .seconds(60),
                concurrentHTTP1ConnectionsPerHostSoftLimit: max(connections, 1)
            )
            configuration.timeout = .init(connect: .seconds(10))
            return HTTPClient(eventLoopGroupProvider: .shared(loop), configuration: configuration)
        }
        calls = client(loops[0], connections: connections)
        streams = client(loops[1], connections: streamConnections)
    }

    func shutdown() async {
        try? await calls.shutdown()
        try? await streams.shutdown()
        for loop in loops { try? await loop.shutdownGracefully() }
    }

    /// One call; `expected` statuses count as success.
    func call(
        _ method: HTTPMethod,
        _ path: String,
        json body: Data? = nil,
        headers: [(String, String)] = [],
        expected: Set<Int> = [200]
    ) async -> CallOutcome {
        var request = HTTPClientRequest(url: target + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await calls.execute(request, timeout: Self.timeout)
            let bytes = try await response.body.collect(upTo: 1 << 20)
            let status = Int(response.status.code)
            if expected.contains(status) { return .success(status: status, body: Data(bytes.readableBytesView)) }
            let code =
                (try? JSONDecoder().decode(Wire.ErrorBody.self, from: Data(bytes.readableBytesView)))?.error.code ?? "-"
            if status == 409 { return .conflict(code: code) }
            return .failure(kind: "\(method.rawValue) \(Self.template(path)) \(status) \(code)")
        } catch {
            if error is CancellationError || Task.isCancelled { return .cancelled }
            return .failure(kind: "transport: \(Self.describe(error))")
        }
    }

    /// A request body; the load test's own types always encode.
    static func json(_ value: some Encodable) -> Data {
        (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
    }

    /// Opens an event stream and hands each event to `handle` until the stream ends, `handle` returns
    /// false, or the task is cancelled.
    /// - Returns: Nil when the stream ended (or was left), else why it could not be read.
    func stream(_ path: String, handle: (ServerSentEvent) -> Bool) async -> String? {
        var request = HTTPClientRequest(url: target + path)
        request.headers.add(name: "Accept", value: "text/event-stream")
        do {
            let response = try await streams.execute(request, timeout: .hours(24))
            guard response.status == .ok else {
                return "GET \(Self.template(path)) \(response.status.code)"
            }
            var parser = ServerSentEventParser()
            for try await chunk in response.body {
                for event in parser.feed(chunk.readableBytesView) where !handle(event) {
                    return nil
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
