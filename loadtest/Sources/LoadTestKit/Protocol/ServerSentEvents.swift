/// One Server-Sent Event.
public struct ServerSentEvent: Equatable, Sendable {
    public var id: String?
    public var event: String
    public var data: String

    public init(id: String? = nil, event: String = "message", data: String) {
        self.id = id
        self.event = event
        self.data = data
    }
}

/// Reads the `text/event-stream` format incrementally: feed it bytes as they arrive (split anywhere,
/// even inside a line or a multi-byte character) and it returns the events completed so far.
/// Comments (`: keep-alive`) are skipped; multiple `data:` lines join with newlines.
public struct ServerSentEventParser: Sendable {
    private var buffer: [UInt8] = []
    private var id: String?
    private var event: String?
    private var data: [String] = []

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        buffer.append(contentsOf: bytes)
        var events: [ServerSentEvent] = []
        var start = buffer.startIndex
        while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var end = newline
            if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let line = String(decoding: buffer[start..<end], as: UTF8.self)
            start = newline + 1
            if let event = take(line) { events.append(event) }
        }
        buffer.removeSubrange(buffer.startIndex..<start)
        return events
    }

    /// Handles one line; a blank line completes the pending event.
    private mutating func take(_ line: String) -> ServerSentEvent? {
        if line.isEmpty {
            defer {
                event = nil
                data = []
            }
            guard !data.isEmpty else { return nil }
            return ServerSentEvent(id: id, event: event ?? "message", data: data.joined(separator: "\n"))
        }
        if line.hasPrefix(":") { return nil }
        let field: Substring
        var value: Substring
        if let colon = line.firstIndex(of: ":") {
            field = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            field = Substring(line)
            value = ""
        }
        switch field {
        case "id": id = String(value)
        case "event": event = String(value)
        case "data": data.append(String(value))
        default: break
        }
        return nil
    }
}
