import Metrics
import NIOCore

/// Closes a connection whose client has stopped reading: one that stays unwritable (its socket's send
/// buffer full, NIO's write buffer past its high-water mark) for `timeout` (`WRITE_TIMEOUT_SECONDS`).
///
/// An event stream or a driver channel writes to its client for as long as it is open; a client that
/// never reads would otherwise hold its stream, its connection and its buffered events for ever, and,
/// because graceful shutdown waits for every connection to finish, keep the process from stopping.
/// Once shutdown has begun (`ChannelShouldQuiesceEvent`) a stalled connection is closed at once, so a
/// stalled reader never delays shutdown.
final class WriteStallHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    /// How long a connection may stay unwritable.
    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var quiescing = false

    /// Connections closed because their client stopped reading.
    static let closed = Counter(label: "dispatch_connections_write_stalled_total")

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive, !context.channel.isWritable { stalled(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            deadline?.cancel()
            deadline = nil
        } else {
            stalled(context)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if !context.channel.isWritable { close(context) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    private func stalled(_ context: ChannelHandlerContext) {
        guard !quiescing else { return close(context) }
        guard deadline == nil else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.deadline = nil
            if !context.channel.isWritable { handler.close(context) }
        }
    }

    private func close(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        Self.closed.increment()
        context.close(promise: nil)
    }
}
