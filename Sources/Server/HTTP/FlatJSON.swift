/// A reader for the small, flat JSON objects the hottest messages are (`{"lat": 37.5, "lng": 127.0}`),
/// without Foundation's `JSONDecoder`.
///
/// Why: decoding a location report's body with `JSONDecoder` was 14 % of the report's CPU at the edge
/// (docs/BENCHMARKS.md), for three fields. This reader accepts only input it is certain about, and
/// returns nil for anything else, so that the caller decodes that with `JSONDecoder` and every answer
/// to unusual input, valid or not, stays exactly `JSONDecoder`'s: a key not in `keys`, a repeated key,
/// a value other than a plain string or a plain number, an escape or a non-ASCII character in a
/// string, a number with an exponent or longer than 32 characters, malformed JSON.
enum FlatJSON {
    /// A value of a flat object.
    enum Value: Equatable, Sendable {
        case string(String)
        case number(Double)
    }

    /// Reads `{"key": value, ...}` (JSON whitespace anywhere) with keys from `keys`.
    /// - Returns: The members in order, or nil when the bytes are not such an object.
    static func read(_ bytes: UnsafeRawBufferPointer, keys: Set<String>) -> [(key: String, value: Value)]? {
        var reader = Reader(bytes: bytes)
        return reader.readObject(keys: keys)
    }
}

/// A cursor over the bytes.
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func readObject(keys: Set<String>) -> [(key: String, value: FlatJSON.Value)]? {
        var members: [(key: String, value: FlatJSON.Value)] = []
        skipWhitespace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipWhitespace()
        if take(UInt8(ascii: "}")) { return finish(members) }
        while true {
            guard let key = readPlainString(), keys.contains(key), !members.contains(where: { $0.key == key })
            else { return nil }
            skipWhitespace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipWhitespace()
            if current == UInt8(ascii: "\"") {
                guard let text = readPlainString() else { return nil }
                members.append((key, .string(text)))
            } else {
                guard let number = readNumber() else { return nil }
                members.append((key, .number(number)))
            }
            skipWhitespace()
            if take(UInt8(ascii: ",")) {
                skipWhitespace()
                continue
            }
            guard take(UInt8(ascii: "}")) else { return nil }
            return finish(members)
        }
    }

    private mutating func finish(
        _ members: [(key: String, value: FlatJSON.Value)]
    ) -> [(key: String, value: FlatJSON.Value)]? {
        skipWhitespace()
        return index == bytes.count ? members : nil
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

    /// A string of printable ASCII without escapes (keys, IDs and RFC 3339 times are such strings).
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
