import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// One driver app's channel (`GET /v1/drivers/{id}/channel`, WebSocket), written straight on SwiftNIO:
/// a connection, the upgrade, then text frames both ways, with no task per message (the same reason
/// as `PipelinedClient`: the generator must cost less than the server it measures).
final class ChannelConnection: Sendable {
    /// A text message from the service (one JSON object), on the connection's event loop.
    typealias Receive = @Sendable (_ driverID: String, _ text: ByteBuffer) -> Void
    /// The connection closed (by either side, or failed).
    typealias Closed = @Sendable (_ driverID: String) -> Void

    let driverID: String
    private let channel: any Channel
    /// The key masking this connection's frames. A client must mask, so that no proxy can be made to
    /// cache what it sends; one random key per connection does that for a load generator, without a
    /// system call for randomness per frame.
    private let maskKey = WebSocketMaskingKey.random()

    private init(driverID: String, channel: any Channel) {
        self.driverID = driverID
        self.channel = channel
    }

    /// Connects and upgrades.
    /// - Parameters:
    ///   - path: The channel's path with its query, e.g. `/v1/drivers/d1/channel?after=x-3`.
    /// - Throws: When the connection or the upgrade fails.
    static func connect(
        host: String,
        port: Int,
        driverID: String,
        path: String,
        authorization: String?,
        group: any EventLoopGroup,
        receive: @escaping Receive,
        closed: @escaping Closed
    ) async throws -> ChannelConnection {
        let upgraded: EventLoopFuture<(any Channel)?> = try await ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<(any Channel)?>(
                        maxFrameSize: 1 << 20,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(
                                    ChannelFrameHandler(driverID: driverID, receive: receive, closed: closed)
                                )
                                return channel
                            }
                        }
                    )
                    var head = HTTPRequestHead(
                        version: .http1_1,
                        method: .GET,
                        uri: path,
                        headers: ["Host": host, "Content-Length": "0"]
                    )
                    if let authorization { head.headers.add(name: "Authorization", value: authorization) }
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(
                            upgradeConfiguration: NIOTypedHTTPClientUpgradeConfiguration(
                                upgradeRequestHead: head,
                                upgraders: [upgrader],
                                notUpgradingCompletionHandler: { channel in
                                    channel.eventLoop.makeCompletedFuture { nil }
                                }
                            )
                        )
                    )
                }
            }
        guard let channel = try await upgraded.get() else {
            throw ChannelError("the service did not upgrade \(path)")
        }
        return ChannelConnection(driverID: driverID, channel: channel)
    }

    /// Sends one text message.
    func send(_ text: String) {
        send(ByteBuffer(string: text))
    }

    /// Sends one text message, from bytes.
    func send(_ bytes: ByteBuffer) {
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, maskKey: maskKey, data: bytes), promise: nil)
    }

    /// Closes the connection.
    func close() {
        channel.close(promise: nil)
    }
}

/// A channel that could not be opened.
struct ChannelError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Hands text messages to the caller, answers pings, and reports the end of the connection.
private final class ChannelFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let driverID: String
    private let receive: ChannelConnection.Receive
    private let closed: ChannelConnection.Closed
    /// The parts of a fragmented message.
    private var pending: ByteBuffer?

    init(driverID: String, receive: @escaping ChannelConnection.Receive, closed: @escaping ChannelConnection.Closed) {
        self.driverID = driverID
        self.receive = receive
        self.closed = closed
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .continuation:
            var data = frame.unmaskedData
            if pending != nil || !frame.fin {
                pending = pending ?? ByteBuffer()
                pending?.writeBuffer(&data)
                guard frame.fin, let whole = pending else { return }
                pending = nil
                receive(driverID, whole)
            } else {
                receive(driverID, data)
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        default:
            frame.data.clear()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed(driverID)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
