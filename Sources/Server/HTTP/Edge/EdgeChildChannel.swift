import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// Wraps Hummingbird's HTTP/1.1 child channel (with WebSocket upgrades) so that each connection's
/// pipeline gets an `EdgeHandler` right after NIO's HTTP/1.1 request decoder, before Hummingbird's
/// own handlers.
struct EdgeChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value

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
            try pipeline.addHandler(WriteStallHandler(timeout: TimeAmount(writeTimeout)), position: .first)
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
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
