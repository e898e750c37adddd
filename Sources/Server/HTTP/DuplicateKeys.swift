import Foundation

/// Finds a key that appears twice in one JSON object, at any depth.
///
/// Why: `JSONDecoder` keeps one of two equal keys silently, so `{"riderId":"a","riderId":"b"}` means
/// whatever the parser in front of us picked, and a proxy or an audit log may read the other one. The
/// service refuses such bodies (`400 duplicate_key`) instead of guessing.
///
/// A scanner, not a parser: it follows strings, objects and arrays and nothing else, and says nothing
/// about input that is not JSON (`JSONDecoder` answers that). Keys are compared after unescaping, so
/// `"a"` and `"\u0061"` are the same key.
enum DuplicateKeys {
    /// The first key repeated within one object, or nil.
    static func first(in bytes: UnsafeRawBufferPointer) -> String? {
        /// An open container: an object's keys so far and whether a key comes next, or an array.
        enum Container {
            case object(keys: Set<String>, expectingKey: Bool)
            case array
        }
        var stack: [Container] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                stack.append(.object(keys: [], expectingKey: true))
            case UInt8(ascii: "["):
                stack.append(.array)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
            case UInt8(ascii: ","):
                if case .object(let keys, _) = stack.last {
                    stack[stack.count - 1] = .object(keys: keys, expectingKey: true)
                }
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                var escaped = false
                while index < bytes.count {
                    let current = bytes[index]
                    if escaped {
                        escaped = false
                    } else if current == UInt8(ascii: "\\") {
                        escaped = true
                    } else if current == UInt8(ascii: "\"") {
                        break
                    }
                    index += 1
                }
                guard index < bytes.count else { return nil }
                if case .object(var keys, true) = stack.last {
                    let key = self.key(UnsafeRawBufferPointer(rebasing: bytes[start...index]))
                    guard keys.insert(key).inserted else { return key }
                    stack[stack.count - 1] = .object(keys: keys, expectingKey: false)
                }
            default:
                break
            }
            index += 1
        }
        return nil
    }

    /// A key's text: as written when it has no escapes, else as JSON decodes it.
    private static func key(_ quoted: UnsafeRawBufferPointer) -> String {
        let inner = UnsafeRawBufferPointer(rebasing: quoted[1..<(quoted.count - 1)])
        guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
        return (try? JSONDecoder().decode(String.self, from: Data(quoted))) ?? String(decoding: inner, as: UTF8.self)
    }
}
