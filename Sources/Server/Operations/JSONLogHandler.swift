import Foundation
import Logging
import Synchronization

/// `LOG_FORMAT=json`: one JSON object per line on standard output, for a cluster's log pipeline:
/// `{"timestamp","level","logger","message", …metadata}`, with the request ID of request logs as
/// `request_id` (Hummingbird's `hb.request.id`).
///
/// What must never reach a log: the code logs no tokens, secrets or coordinates (request logs write a
/// path without its query, `RequestLogMiddleware`); as a second line, this handler redacts any
/// metadata whose key names one (`authorization`, `token`, `secret`, `password`, `latitude`,
/// `longitude`, `location`, `coordinate` anywhere in the key; `lat`, `lng`, `lon` as words) and drops a
/// path's query string. Messages are not scanned: they are the code's own words.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    private let output: @Sendable (String) -> Void

    /// - Parameters:
    ///   - label: The logger's label, written as `logger`.
    ///   - level: The least severe level written.
    ///   - output: Where each line goes (standard output unless a test captures it).
    init(
        label: String,
        level: Logger.Level,
        output: @escaping @Sendable (String) -> Void = JSONLogHandler.standardOutput
    ) {
        self.label = label
        self.logLevel = level
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        var object: [String: Any] = [
            "timestamp": Self.timestamp(),
            "level": event.level.rawValue,
            "logger": label,
            "message": event.message.description,
        ]
        if let error = event.error { object["error"] = String(describing: error) }
        for (key, value) in merged {
            let name = key == "hb.request.id" ? "request_id" : key
            object[name] = Self.redacted(key: key, value)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        output(String(decoding: data, as: UTF8.self))
    }

    /// Parts of a key that make its value secret or precise, anywhere in the key (`accessToken`).
    private static let sensitiveParts = [
        "authorization", "token", "secret", "password", "latitude", "longitude", "location", "coordinate",
    ]
    /// Short names redacted as whole words only (`pickup.lat`, `pickupLat`, not `platform`).
    private static let sensitiveWords: Set<String> = ["lat", "lng", "lon"]

    static func isSensitive(_ key: String) -> Bool {
        let lowered = key.lowercased()
        if sensitiveParts.contains(where: lowered.contains) { return true }
        // Words split at punctuation and at camel case: pickupLat -> pickup, lat.
        var words: [String] = []
        var word = ""
        for character in key {
            if !character.isLetter {
                words.append(word)
                word = ""
            } else if character.isUppercase, !word.isEmpty {
                words.append(word)
                word = String(character)
            } else {
                word.append(character)
            }
        }
        words.append(word)
        return words.contains { sensitiveWords.contains($0.lowercased()) }
    }

    static func redacted(key: String, _ value: Logger.Metadata.Value) -> Any {
        let lowered = key.lowercased()
        if isSensitive(key) { return "[redacted]" }
        func withoutQuery(_ text: String) -> String {
            // A path's query (a nearby search's coordinates) never reaches the log.
            guard lowered.hasSuffix("path") || lowered.hasSuffix("uri"), let query = text.firstIndex(of: "?") else {
                return text
            }
            return String(text[..<query])
        }
        switch value {
        case .string(let text):
            return withoutQuery(text)
        case .stringConvertible(let convertible):
            return withoutQuery(convertible.description)
        case .array(let values):
            return values.map { redacted(key: "", $0) }
        case .dictionary(let dictionary):
            return dictionary.reduce(into: [String: Any]()) { $0[$1.key] = redacted(key: $1.key, $1.value) }
        }
    }

    private static func timestamp() -> String { Timestamps.format(Date()) }

    private static let lock = Mutex(())

    /// Writes a line to standard output in one write, so lines from many threads never interleave.
    @Sendable static func standardOutput(_ line: String) {
        lock.withLock { _ in
            // A log line that cannot be written (a full disk, a closed pipe) is dropped, never fatal.
            try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
        }
    }
}
