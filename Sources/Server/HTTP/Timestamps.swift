import Foundation

/// RFC 3339 times as the API writes and reads them: UTC, millisecond precision, `Z` suffix.
enum Timestamps {
    /// Formats a time, e.g. `2026-11-25T14:47:13.123Z`.
    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Parses an RFC 3339 time with or without fractional seconds, with `Z` or a numeric offset.
    /// - Returns: The time, or nil when the text is not an RFC 3339 time.
    static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
