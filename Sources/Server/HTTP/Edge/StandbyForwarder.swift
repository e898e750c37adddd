import Foundation
import Logging
import NIOCore
import NIOPosix

/// First in every API connection's pipeline: on a replica that leads, it steps aside at once; on a
/// standby that knows where the leader is, it forwards the connection, byte for byte, to the leader's
/// API port, so a region's Service may route to either replica (both are ready) and every request,
/// stream and driver channel still reaches the one dispatcher. The probes (`/healthz`, `/readyz`) are
/// answered by the standby itself, so they say whether it can forward, not how the leader is.
///
/// When the leader cannot be reached (it just died, and this standby is about to take over), the
/// client gets `503 not_leader` with `Retry-After: 1` and the connection closes: its retry finds the
/// new leader. What a forwarded connection carries is the leader's business: tokens, limits and
/// answers are all the leader's.
final class StandbyForwarder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// Reading the request line, to tell a probe from the rest.
        case deciding(ByteBuffer?)
        /// Connecting to the leader; what the client sends meanwhile is kept (and whether it has
        /// finished sending: a half-close to pass on).
        case connecting(ByteBuffer?, inputClosed: Bool)
        case forwarding(any Channel)
        case closed
    }

    private let leadership: Leadership
    /// Told whether the connection is forwarded (true) or served here (false), once decided.
    private let decided: EventLoopPromise<Bool>
    private var isDecided = false
    private let connectTimeout: TimeAmount
    private let logger: Logger
    private var state = State.deciding(nil)
    /// This handler's context while it is in the pipeline (for `closeIfUndecided`).
    private var context: ChannelHandlerContext?
    /// The last write of the leader's bytes to the client.
    private var lastWrite: EventLoopFuture<Void>?

    init(
        leadership: Leadership,
        decided: EventLoopPromise<Bool>,
        connectTimeout: TimeAmount = .seconds(1),
        logger: Logger
    ) {
        self.leadership = leadership
        self.decided = decided
        self.connectTimeout = connectTimeout
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        switch state {
        case .deciding(var buffered):
            if buffered == nil { buffered = bytes } else { buffered?.writeBuffer(&bytes) }
            guard let buffered else { return }
            decide(context: context, buffered: buffered)
        case .connecting(var buffered, let inputClosed):
            if buffered == nil { buffered = bytes } else { buffered?.writeBuffer(&bytes) }
            state = .connecting(buffered, inputClosed: inputClosed)
        case .forwarding(let peer):
            peer.writeAndFlush(bytes, promise: nil)
            if !peer.isWritable { try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false) }
        case .closed:
            break
        }
    }

    /// Once the request line is in: a probe, or a replica that leads (or knows no leader), is served
    /// here; anything else is forwarded.
    private func decide(context: ChannelHandlerContext, buffered: ByteBuffer) {
        let line = buffered.readableBytesView.prefix(64)
        let complete = line.contains(UInt8(ascii: "\n")) || line.count >= 64
        guard complete || leadership.isLeader else {
            state = .deciding(buffered)
            return
        }
        let text = String(decoding: line, as: UTF8.self)
        let isProbe = ["GET /healthz", "GET /readyz"].contains { text.hasPrefix($0) }
        guard !isProbe, let address = leadership.forwardingAddress, let target = Self.parse(address) else {
            serveHere(context: context, buffered: buffered)
            return
        }
        state = .connecting(buffered, inputClosed: false)
        settle(forwarded: true)
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
        let client = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        Self.configure(ClientBootstrap(group: context.eventLoop), connectTimeout: connectTimeout)
            .channelInitializer { peer in
                peer.eventLoop.makeCompletedFuture {
                    try peer.pipeline.syncOperations.addHandler(ForwardedPeer(client: client))
                }
            }
            .connect(host: target.host, port: target.port)
            .whenComplete { result in
                let (forwarder, context) = client.value
                forwarder.connected(result, context: context, address: address)
            }
    }

    private func connected(_ result: Result<any Channel, any Error>, context: ChannelHandlerContext, address: String) {
        guard case .connecting(let buffered, let inputClosed) = state else {
            if case .success(let peer) = result { peer.close(promise: nil) }
            return
        }
        switch result {
        case .success(let peer):
            state = .forwarding(peer)
            if let buffered { peer.writeAndFlush(buffered, promise: nil) }
            if inputClosed { peer.close(mode: .output, promise: nil) }
            try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
            context.read()
        case .failure(let error):
            logger.debug(
                "the leader could not be reached; answering not_leader",
                metadata: ["leader.address": "\(address)", "error": "\(error)"]
            )
            state = .closed
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(Self.notLeader(context.channel.allocator)))
                .whenComplete { _ in bound.value.close(promise: nil) }
        }
    }

    /// Hands the connection to the local HTTP pipeline, with what was read so far.
    private func serveHere(context: ChannelHandlerContext, buffered: ByteBuffer) {
        state = .closed
        settle(forwarded: false)
        context.fireChannelRead(wrapInboundOut(buffered))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// A client that has sent everything and half-closed: the leader is told the same way, and still
    /// answers (the HTTP handlers, which would close the connection, never hear of it).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, event == .inputClosed else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch state {
        case .forwarding(let peer):
            peer.close(mode: .output, promise: nil)
        case .connecting(let buffered, _):
            state = .connecting(buffered, inputClosed: true)
        case .deciding, .closed:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .forwarding(let peer) = state {
            try? peer.syncOptions?.setOption(ChannelOptions.autoRead, value: context.channel.isWritable)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .deciding:
            // Closed before its first request: nothing for Hummingbird to serve.
            settle(forwarded: true)
        case .forwarding(let peer):
            peer.close(promise: nil)
        case .connecting, .closed:
            break
        }
        state = .closed
        context.fireChannelInactive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Closes the connection if nothing has decided it yet (shutdown: it is idle).
    func closeIfUndecided() {
        guard case .deciding = state, let context else { return }
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        // Removed undecided (the pipeline torn down): Hummingbird's handlers have the connection.
        settle(forwarded: false)
    }

    /// Tells `handle` (once) whether Hummingbird serves this connection.
    private func settle(forwarded: Bool) {
        guard !isDecided else { return }
        isDecided = true
        decided.succeed(forwarded)
    }

    /// The leader's bytes, written to the client beneath the HTTP handlers (they never see them).
    fileprivate func fromLeader(_ bytes: ByteBuffer, context: ChannelHandlerContext, peer: any Channel) {
        lastWrite = context.writeAndFlush(wrapOutboundOut(bytes))
        if !context.channel.isWritable { try? peer.syncOptions?.setOption(ChannelOptions.autoRead, value: false) }
    }

    /// The leader closed: the client's connection closes too, once what the leader sent is written.
    fileprivate func leaderClosed(context: ChannelHandlerContext) {
        state = .closed
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        if let lastWrite {
            lastWrite.whenComplete { _ in bound.value.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }

    fileprivate func leaderWritabilityChanged(_ writable: Bool, context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: writable)
    }

    /// The options of a connection to the leader: a connect timeout, and no Nagle delay (TCP_NODELAY at
    /// the TCP level: as a socket-level option its number is SO_DEBUG, which an unprivileged process,
    /// as in a pod, may not set).
    static func configure(_ bootstrap: ClientBootstrap, connectTimeout: TimeAmount) -> ClientBootstrap {
        bootstrap
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
    }

    /// `host:port` (a bracketed IPv6 host included).
    static func parse(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (1...65_535).contains(port)
        else { return nil }
        let host = address[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? nil : (host, port)
    }

    /// The whole answer to a request that found no leader: the API's error shape, and a retry hint.
    static func notLeader(_ allocator: ByteBufferAllocator) -> ByteBuffer {
        let body =
            #"{"error":{"code":"not_leader","message":"the region's leader cannot be reached now; retry shortly"}}"#
        return allocator.buffer(
            string: "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                + "Connection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        )
    }
}

/// The connection to the leader: what it sends goes back to the client.
private final class ForwardedPeer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let client: NIOLoopBound<(StandbyForwarder, ChannelHandlerContext)>

    init(client: NIOLoopBound<(StandbyForwarder, ChannelHandlerContext)>) {
        self.client = client
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let (forwarder, clientContext) = client.value
        forwarder.fromLeader(unwrapInboundIn(data), context: clientContext, peer: context.channel)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let (forwarder, clientContext) = client.value
        forwarder.leaderWritabilityChanged(context.channel.isWritable, context: clientContext)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let (forwarder, clientContext) = client.value
        forwarder.leaderClosed(context: clientContext)
        context.fireChannelInactive()
    }
}
