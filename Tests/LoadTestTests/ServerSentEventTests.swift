import Testing

@testable import LoadTestKit

@Suite("Server-Sent Events, read incrementally")
struct ServerSentEventTests {
    let stream =
        "id: 1\nevent: ride_requested\ndata: {\"a\":\"ü\"}\n\n: keep-alive\n\nid: 2\r\nevent: x\r\ndata: one\r\ndata: two\r\n\r\ndata:bare\n\n"

    @Test("events, comments, CRLF and multi-line data")
    func whole() {
        var parser = ServerSentEventParser()
        let events = parser.feed(Array(stream.utf8))
        #expect(
            events == [
                ServerSentEvent(id: "1", event: "ride_requested", data: "{\"a\":\"ü\"}"),
                ServerSentEvent(id: "2", event: "x", data: "one\ntwo"),
                ServerSentEvent(id: "2", event: "message", data: "bare"),
            ]
        )
    }

    @Test("the same events whatever the chunking, even inside a multi-byte character", arguments: [1, 2, 3, 7, 64])
    func chunked(size: Int) {
        var whole = ServerSentEventParser()
        let expected = whole.feed(Array(stream.utf8))
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        let bytes = Array(stream.utf8)
        var start = 0
        while start < bytes.count {
            events += parser.feed(bytes[start..<min(start + size, bytes.count)])
            start += size
        }
        #expect(events == expected)
    }

    @Test("an unfinished event is held until its blank line")
    func pending() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("event: a\ndata: 1\n".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)) == [ServerSentEvent(event: "a", data: "1")])
    }
}
