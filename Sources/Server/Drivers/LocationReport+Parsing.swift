import NIOCore

extension LocationReport {
    /// Reads the common shape of a report body, `{"lat": <number>, "lng": <number>, "recordedAt":
    /// "<time>"}` (any order, `recordedAt` optional, JSON whitespace anywhere, numbers in plain decimal
    /// notation), without Foundation's `JSONDecoder`.
    ///
    /// Why: decoding this body with `JSONDecoder` was 14 % of a location report's CPU at the edge
    /// (docs/BENCHMARKS.md), for three fields. This reader accepts only input it is certain about
    /// and returns nil for anything else: another key, a repeated key, an escape in a string, a
    /// number with an exponent or longer than 32 characters, malformed JSON. The caller then decodes with
    /// `JSONDecoder`, so every answer to unusual input, valid or not, is exactly `JSONDecoder`'s.
    /// - Returns: The fields, or nil when the body is not in the common shape.
    static func parseCommonShape(_ buffer: ByteBuffer) -> LocationUpdateRequest? {
        buffer.withUnsafeReadableBytes { bytes in
            var reader = Reader(bytes: bytes)
            return reader.readReport()
        }
    }
}

/// A cursor over a report body's bytes.
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func readReport() -> LocationUpdateRequest? {
        var lat: Double?
        var lng: Double?
        var recordedAt: String?
        skipWhitespace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return nil }  // Missing fields: let JSONDecoder name them.
        while true {
            guard let key = readPlainString() else { return nil }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            switch key {
            case "lat":
                guard lat == nil, let value = readNumber() else { return nil }
                lat = value
            case "lng":
                guard lng == nil, let value = readNumber() else { return nil }
                lng = value
            case "recordedAt":
                guard recordedAt == nil, let value = readPlainString() else { return nil }
                recordedAt = value
            default:
                return nil
            }
            skipWhitespace()
            if take(UInt8(ascii: ",")) {
                skipWhitespace()
                continue
            }
            guard take(UInt8(ascii: "}")) else { return nil }
            break
        }
        skipWhitespace()
        guard index == bytes.count, let lat, let lng else { return nil }
        return LocationUpdateRequest(lat: lat, lng: lng, recordedAt: recordedAt)
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    /// A string of printable ASCII without escapes (keys and RFC 3339 times are such strings).
    private mutating func readPlainString() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while let byte = current, byte != UInt8(ascii: "\"") {
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
            index += 1
        }
        guard current != nil else { return nil }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        index += 1
        return text
    }

    /// A number the way coordinates are written, `-?(0|[1-9][0-9]*)(\.[0-9]+)?` in at most 32
    /// characters: no exponent, so nothing overflows or underflows (`JSONDecoder` refuses numbers it
    /// cannot represent; those are left to it).
    private mutating func readNumber() -> Double? {
        let start = index
        _ = take(UInt8(ascii: "-"))
        guard let first = current, isDigit(first) else { return nil }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if take(UInt8(ascii: ".")) {
            guard let digit = current, isDigit(digit) else { return nil }
            skipDigits()
        }
        guard index - start <= 32, current != UInt8(ascii: "e"), current != UInt8(ascii: "E") else { return nil }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        return Double(text)
    }

    private mutating func skipDigits() {
        while let byte = current, isDigit(byte) { index += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
