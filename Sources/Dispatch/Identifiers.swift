/// The rule shared by every ID the API accepts: 1–64 characters of `[A-Za-z0-9_-]`.
///
/// The restricted alphabet keeps IDs safe in URLs, logs and metrics without escaping.
enum IdentifierRule {
    /// Whether a string is 1–64 ASCII letters, digits, `_` or `-`.
    static func isValid(_ candidate: String) -> Bool {
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

    static func check(_ candidate: String, what: String, code: DispatchError.Code) throws(DispatchError) {
        guard isValid(candidate) else {
            throw DispatchError(
                code,
                "\(what) must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-', got \"\(candidate.prefix(80))\""
            )
        }
    }

    /// Byte order: IDs are ASCII, and this is much cheaper than String's Unicode ordering.
    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}

/// A driver's ID, chosen by the driver app's backend.
public struct DriverID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The ID as given.
    public let rawValue: String

    /// Validates an ID.
    /// - Parameter rawValue: The candidate ID.
    /// - Throws: `DispatchError.Code.invalidDriverID` naming the problem.
    public init(_ rawValue: String) throws(DispatchError) {
        try IdentifierRule.check(rawValue, what: "driver ID", code: .invalidDriverID)
        self.rawValue = rawValue
    }

    /// Whether a string is a valid ID.
    public static func isValid(_ candidate: String) -> Bool { IdentifierRule.isValid(candidate) }

    public static func < (lhs: DriverID, rhs: DriverID) -> Bool { IdentifierRule.precedes(lhs.rawValue, rhs.rawValue) }

    /// The ID itself.
    public var description: String { rawValue }
}

/// A rider's ID, chosen by the rider app's backend; the same rule as driver IDs.
public struct RiderID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The ID as given.
    public let rawValue: String

    /// Validates an ID.
    /// - Throws: `DispatchError.Code.invalidRiderID` naming the problem.
    public init(_ rawValue: String) throws(DispatchError) {
        try IdentifierRule.check(rawValue, what: "rider ID", code: .invalidRiderID)
        self.rawValue = rawValue
    }

    public static func < (lhs: RiderID, rhs: RiderID) -> Bool { IdentifierRule.precedes(lhs.rawValue, rhs.rawValue) }

    /// The ID itself.
    public var description: String { rawValue }
}

/// A ride's ID, made by the service (`RideIDGenerator`).
public struct RideID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The ID.
    public let rawValue: String

    /// Validates an ID given by a client (a path parameter).
    /// - Throws: `DispatchError.Code.invalidRideID` naming the problem.
    public init(_ rawValue: String) throws(DispatchError) {
        try IdentifierRule.check(rawValue, what: "ride ID", code: .invalidRideID)
        self.rawValue = rawValue
    }

    public static func < (lhs: RideID, rhs: RideID) -> Bool { IdentifierRule.precedes(lhs.rawValue, rhs.rawValue) }

    /// The ID itself.
    public var description: String { rawValue }
}

/// An operator's ID (the subject of an `ops` token): who acted on a ride for its rider or driver, as
/// the ride's events record it. The same rule as driver IDs.
public struct OperatorID: Hashable, Sendable, CustomStringConvertible {
    /// The ID as given.
    public let rawValue: String

    /// Validates an ID; nil when it breaks the rule.
    public init?(_ rawValue: String) {
        guard IdentifierRule.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// The ID itself.
    public var description: String { rawValue }
}
