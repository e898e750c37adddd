/// A driver's ID: 1–64 characters of `[A-Za-z0-9_-]`, chosen by the driver app's backend.
///
/// The restricted alphabet keeps IDs safe in URLs, logs and metrics without escaping.
public struct DriverID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The ID as given.
    public let rawValue: String

    /// Validates an ID.
    /// - Parameter rawValue: The candidate ID.
    /// - Throws: `DispatchError.Code.invalidDriverID` naming the problem.
    public init(_ rawValue: String) throws(DispatchError) {
        guard Self.isValid(rawValue) else {
            throw DispatchError(
                .invalidDriverID,
                "driver ID must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-', got \"\(rawValue.prefix(80))\""
            )
        }
        self.rawValue = rawValue
    }

    /// Whether a string is 1–64 ASCII letters, digits, `_` or `-`.
    public static func isValid(_ candidate: String) -> Bool {
        let bytes = candidate.utf8
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

    public static func < (lhs: DriverID, rhs: DriverID) -> Bool {
        // Byte order: IDs are ASCII, and this is much cheaper than String's Unicode ordering.
        lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8)
    }

    /// The ID itself.
    public var description: String { rawValue }
}
