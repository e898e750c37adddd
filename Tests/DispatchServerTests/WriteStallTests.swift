import NIOCore
import NIOEmbedded
import Testing

@testable import DispatchServer

@Suite("A client that stops reading is dropped by the write timeout")
struct WriteStallTests {
    func connected(timeout: TimeAmount = .seconds(30)) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(WriteStallHandler(timeout: timeout))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return channel
    }

    func setWritable(_ channel: EmbeddedChannel, _ writable: Bool) {
        channel.isWritable = writable
        channel.pipeline.fireChannelWritabilityChanged()
    }

    @Test("unwritable for the whole timeout: closed")
    func closesAfterTimeout() throws {
        let channel = try connected()
        setWritable(channel, false)
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test("writable again before the timeout: kept, and the clock starts over at the next stall")
    func keptWhenItReadsAgain() throws {
        let channel = try connected()
        setWritable(channel, false)
        channel.embeddedEventLoop.advanceTime(by: .seconds(20))
        setWritable(channel, true)
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        setWritable(channel, false)
        channel.embeddedEventLoop.advanceTime(by: .seconds(20))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive)
    }

    @Test("shutdown closes a stalled connection at once, and one that stalls during it")
    func shutdownDoesNotWait() throws {
        let stalled = try connected()
        setWritable(stalled, false)
        stalled.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!stalled.isActive)

        let reading = try connected()
        reading.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(reading.isActive)
        setWritable(reading, false)
        #expect(!reading.isActive)
    }
}
