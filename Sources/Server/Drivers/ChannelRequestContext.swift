import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of the driver channel's upgrade: Hummingbird's WebSocket context, plus the
/// connection's event loop, which the channel's task then runs on (`EventLoopTaskExecutor`).
struct ChannelRequestContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<Self>
    /// The connection's event loop.
    let eventLoop: any EventLoop

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        eventLoop = source.channel.eventLoop
    }
}
