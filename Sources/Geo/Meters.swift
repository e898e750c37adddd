/// A length in metres.
///
/// A distinct type so that a radius can never be confused with degrees, seconds or a count.
public struct Meters: Hashable, Comparable, Sendable {
    /// The length in metres.
    public var value: Double

    /// Creates a length.
    /// - Parameter value: The length in metres.
    @inlinable
    public init(_ value: Double) {
        self.value = value
    }

    /// Zero metres.
    public static let zero = Meters(0)

    /// Creates a length from kilometres.
    /// - Parameter kilometers: The length in kilometres.
    /// - Returns: The same length in metres.
    @inlinable
    public static func kilometers(_ kilometers: Double) -> Meters {
        Meters(kilometers * 1000)
    }

    @inlinable
    public static func < (lhs: Meters, rhs: Meters) -> Bool { lhs.value < rhs.value }

    @inlinable
    public static func + (lhs: Meters, rhs: Meters) -> Meters { Meters(lhs.value + rhs.value) }

    @inlinable
    public static func - (lhs: Meters, rhs: Meters) -> Meters { Meters(lhs.value - rhs.value) }

    @inlinable
    public static func * (lhs: Meters, rhs: Double) -> Meters { Meters(lhs.value * rhs) }
}

extension Meters: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    /// Creates a length from a literal number of metres.
    @inlinable
    public init(floatLiteral value: Double) { self.init(value) }

    /// Creates a length from a literal number of metres.
    @inlinable
    public init(integerLiteral value: Int) { self.init(Double(value)) }
}

extension Meters: CustomStringConvertible {
    /// The length followed by its unit, for example `120.5 m`.
    public var description: String { "\(value) m" }
}
