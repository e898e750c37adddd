import DequeModule
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The drivers' high-volume calls, location reports and offer polls (about 8,000 a second in `city`),
/// sent over a fixed set of keep-alive connections straight from SwiftNIO, without a Swift task or an
/// AsyncHTTPClient request per call.
///
/// Why not AsyncHTTPClient for these: profiled at that rate on this 2-core machine (perf, see
/// docs/BENCHMARKS.md), its per-request machinery (a task, a pool state machine, a deadline timer)
/// cost the load generator more than a core on its own, starving the server it shares the machine with
/// and measuring the generator's queue instead of the server. A call here is three writes to a
/// connection; responses are matched to requests in order (HTTP/1.1 pipelining, at most
/// `pipelineDepth` in flight per connection; the rest wait in the connection's queue, and that wait
/// counts in the latency, measured from when the call was due).
final class PipelinedClient: Sendable {
    /// What became of one call: its HTTP status (nil: no answer), body, and latency from when it was due.
    typealias Outcome =
        @Sendable (_ request: PipelinedRequest, _ status: Int?, _ body: ByteBuffer?, _ latency: Double)
        -> Void

    private let channels: Mutex<[any Channel]>
    private let reconnecting: Mutex<Set<Int>>
    private let next = Atomic<Int>(0)
    private let held: HeldCounter
    private let connector: @Sendable () async throws -> any Channel
    private let outcome: Outcome
    private let closing = Atomic<Bool>(false)

    /// Where the connections go.
    let host: String
    let port: Int

    private init(
        channels: [any Channel],
        held: HeldCounter,
        host: String,
        port: Int,
        connector: @escaping @Sendable () async throws -> any Channel,
        outcome: @escaping Outcome
    ) {
        self.channels = Mutex(channels)
        self.reconnecting = Mutex([])
        self.connector = connector
        self.outcome = outcome
        self.held = held
        self.host = host
        self.port = port
    }

    /// Calls that had to wait in a connection's queue behind a full pipeline so far: time the
    /// generator held them, counted in the run's validity.
    var waits: Int { held.count.load(ordering: .relaxed) }

    /// Opens `connections` connections to `host:port`.
    static func connect(
        host: String,
        port: Int,
        connections: Int,
        group: any EventLoopGroup,
        clock: @escaping @Sendable () -> Double,
        outcome: @escaping Outcome
    ) async throws -> PipelinedClient {
        let held = HeldCounter()
        let connector: @Sendable () async throws -> any Channel = {
            try await ClientBootstrap(group: group)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(
                            PipelinedHandler(host: host, clock: clock, outcome: outcome, held: held)
                        )
                    }
                }
                .connect(host: host, port: port)
                .get()
        }
        var channels: [any Channel] = []
        for _ in 0..<max(connections, 1) { channels.append(try await connector()) }
        return PipelinedClient(
            channels: channels,
            held: held,
            host: host,
            port: port,
            connector: connector,
            outcome: outcome
        )
    }

    /// Queues one call on the next connection (round robin); returns at once. A call that finds its
    /// connection closed (the service restarted, or its leader moved) fails at once, and the
    /// connection is opened again, as an app's HTTP client would.
    func send(_ request: PipelinedRequest) {
        let (index, channel) = channels.withLock { channels in
            let index = next.wrappingAdd(1, ordering: .relaxed).oldValue % channels.count
            return (index, channels[index])
        }
        guard channel.isActive else {
            outcome(request, nil, nil, 0)
            reconnect(index)
            return
        }
        channel.writeAndFlush(request, promise: nil)
    }

    private func reconnect(_ index: Int) {
        guard !closing.load(ordering: .relaxed), reconnecting.withLock({ $0.insert(index).inserted }) else { return }
        Task {
            defer { _ = reconnecting.withLock { $0.remove(index) } }
            try? await Task.sleep(for: .milliseconds(200))
            guard let channel = try? await connector() else { return }
            channels.withLock { $0[index] = channel }
        }
    }

    func close() async {
        closing.store(true, ordering: .relaxed)
        for channel in channels.withLock({ $0 }) { try? await channel.close() }
    }
}

/// A shared count (calls held in the generator, calls in flight).
final class HeldCounter: Sendable {
    let count = Atomic<Int>(0)
}

/// One call on its way.
struct PipelinedRequest: Sendable {
    enum Kind: Sendable {
        case report, poll
    }

    var kind: Kind
    var driverID: String
    var method: HTTPMethod
    var uri: String
    var body: String?
    /// When the call was due, in the run's seconds.
    var dueAt: Double
    /// The driver's `Authorization` header value, if the run has tokens.
    var authorization: String?
}

/// Writes calls as HTTP/1.1 requests, at most `pipelineDepth` unanswered at a time, and pairs each
/// response with the oldest unanswered request.
final class PipelinedHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = PipelinedRequest
    typealias OutboundOut = HTTPClientRequestPart

    static let pipelineDepth = 16

    private let host: String
    private let clock: @Sendable () -> Double
    private let outcome: PipelinedClient.Outcome
    private var waiting = Deque<PipelinedRequest>()
    private var inFlight = Deque<PipelinedRequest>()
    private var status: Int?
    private var body: ByteBuffer?
    private let headers: HTTPHeaders
    private let held: HeldCounter

    init(
        host: String,
        clock: @escaping @Sendable () -> Double,
        outcome: @escaping PipelinedClient.Outcome,
        held: HeldCounter
    ) {
        self.host = host
        self.clock = clock
        self.outcome = outcome
        self.held = held
        headers = ["Host": host, "Content-Type": "application/json"]
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if inFlight.count >= Self.pipelineDepth { held.count.wrappingAdd(1, ordering: .relaxed) }
        waiting.append(unwrapOutboundIn(data))
        promise?.succeed()
        drain(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(var part):
            if body == nil {
                body = part
            } else {
                body?.writeBuffer(&part)
            }
        case .end:
            if let request = inFlight.popFirst() {
                outcome(request, status, body, clock() - request.dueAt)
            }
            status = nil
            body = nil
            drain(context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let now = clock()
        for request in inFlight + waiting { outcome(request, nil, nil, now - request.dueAt) }
        inFlight.removeAll()
        waiting.removeAll()
        context.fireChannelInactive()
    }

    /// Sends what waits while fewer than `pipelineDepth` requests are unanswered.
    private func drain(_ context: ChannelHandlerContext) {
        var wrote = false
        while inFlight.count < Self.pipelineDepth, let request = waiting.popFirst() {
            inFlight.append(request)
            var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.uri)
            head.headers = headers
            head.headers.add(name: "Content-Length", value: String(request.body?.utf8.count ?? 0))
            if let authorization = request.authorization {
                head.headers.add(name: "Authorization", value: authorization)
            }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if let body = request.body {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            }
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            wrote = true
        }
        if wrote { context.flush() }
    }
}
