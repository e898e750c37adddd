import NIOCore
import NIOHTTP1

/// Holds a connection's first request while its bearer token is verified, when that request asks to
/// upgrade (the driver channel) and its token is not verified yet; then lets it through and leaves the
/// pipeline. Every later request passes straight by: this handler is gone.
///
/// Why: whether a connection upgrades is decided synchronously on its first request (NIO's upgrade
/// handler, `EdgeServices.firstRequest`), and jwt-kit verifies asynchronously. Verified here first, the
/// token is in `TokenVerifier`'s cache when the decision is made: a valid token upgrades, anything
/// else goes to the route as a plain request and gets the API's `401` or `403`.
final class UpgradeAuthenticationHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let verifier: TokenVerifier
    /// The request's parts read while its token is being verified.
    private var held: [HTTPServerRequestPart] = []
    private var verifying = false
    private var readRequested = false

    init(verifier: TokenVerifier) {
        self.verifier = verifier
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if verifying {
            held.append(part)
            return
        }
        guard case .head(let head) = part, head.headers.contains(name: "upgrade"),
            let authorization = head.headers.first(name: "authorization"),
            let token = TokenVerifier.bearerToken(authorization),
            verifier.cachedCaller(authorization: authorization) == nil, !verifier.isDisabled
        else {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        verifying = true
        held = [part]
        let loop = context.eventLoop
        let handler = NIOLoopBound((self, context), eventLoop: loop)
        Task { [verifier] in
            // Success puts the token in the cache; failure is answered by the route.
            _ = try? await verifier.verify(token)
            loop.execute {
                let (handler, context) = handler.value
                handler.release(context)
            }
        }
    }

    private func release(_ context: ChannelHandlerContext) {
        verifying = false
        let parts = held
        held = []
        guard context.channel.isActive else { return }
        for part in parts { context.fireChannelRead(wrapInboundOut(part)) }
        context.fireChannelReadComplete()
        // The read held back goes out while this handler can still send it; once removed, it cannot.
        if readRequested {
            readRequested = false
            context.read()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        guard !verifying else {
            readRequested = true
            return
        }
        context.read()
    }
}
