import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Wraps Hummingbird's HTTP/1.1 child channel (with WebSocket upgrades) so that each connection's
/// pipeline gets an `EdgeHandler` right after NIO's HTTP/1.1 request decoder, before Hummingbird's
/// own handlers.
struct EdgeChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    /// A connection: Hummingbird's, and whether the standby forwards it instead (then Hummingbird's
    /// handlers never see a byte, and are not asked to serve it).
    struct Value: ServerChildChannelValue {
        let inner: Inner.Value
        let channel: any Channel
        /// True once the connection is forwarded to the leader; false once it is served here.
        let forwarded: EventLoopFuture<Bool>
    }

    /// The wrapped channel setup.
    let inner: Inner
    /// What every connection's edge shares.
    let services: EdgeServices
    /// How long a connection may stay unwritable before it is closed (`WriteStallHandler`).
    let writeTimeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let withinBudget = services.connections.opened()
        channel.closeFuture.whenComplete { [connections = services.connections] _ in connections.closed() }
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { [services] value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            let edge = EdgeHandler(services: services, overBudget: !withinBudget)
            try pipeline.addHandler(edge, position: .after(decoder))
            try pipeline.addHandler(
                UpgradeAuthenticationHandler(verifier: services.verifier),
                position: .after(decoder)
            )
            let stall = WriteStallHandler(timeout: TimeAmount(writeTimeout))
            try pipeline.addHandler(stall, position: .first)
            // Before the HTTP decoder: a standby forwards the raw connection to the leader.
            let forwarded = channel.eventLoop.makePromise(of: Bool.self)
            try pipeline.addHandler(
                StandbyForwarder(leadership: services.leadership, decided: forwarded, logger: services.logger),
                position: .after(stall)
            )
            return Value(inner: value, channel: channel, forwarded: forwarded.futureResult)
        }
    }

    func handle(value: Value, logger: Logger) async {
        // Until its first bytes decide, a connection is idle: at shutdown it is closed, as Hummingbird
        // closes an idle connection.
        let forwarded = await withGracefulShutdownHandler {
            (try? await value.forwarded.get()) ?? true
        } onGracefulShutdown: {
            value.channel.pipeline.handler(type: StandbyForwarder.self).whenSuccess { $0.closeIfUndecided() }
        }
        guard forwarded else {
            await inner.handle(value: value.inner, logger: logger)
            return
        }
        // Forwarded: the connection is the leader's until either end closes it, or this replica stops.
        await withGracefulShutdownHandler {
            try? await value.channel.closeFuture.get()
        } onGracefulShutdown: {
            value.channel.close(promise: nil)
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the edge in front of the router, and upgrades to WebSocket for the routes of
    /// `webSocketRouter` (the driver channel).
    /// - Parameter writeTimeout: How long a connection whose client stops reading is kept.
    static func http1(
        edge services: EdgeServices,
        webSocketRouter: Router<ChannelRequestContext>,
        writeTimeout: Duration
    ) -> HTTPServerBuilder {
        let webSocketResponder = webSocketRouter.buildResponder()
        return .init { responder in
            EdgeChildChannel(
                inner: HTTP1WebSocketUpgradeChannel(
                    responder: responder,
                    webSocketResponder: webSocketResponder,
                    configuration: .init(
                        ws: .init(
                            maxFrameSize: DriverChannel.maximumMessageBytes,
                            autoPing: .enabled(timePeriod: .seconds(30))
                        )
                    )
                ),
                services: services,
                writeTimeout: writeTimeout
            )
        }
    }
}
