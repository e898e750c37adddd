/// A compass direction: degrees clockwise from true north, in [0, 360).
public struct Bearing: Hashable, Comparable, Sendable {
    /// Degrees clockwise from north, in [0, 360).
    public let degrees: Double

    /// Creates a bearing, normalising any finite angle into [0, 360).
    /// - Parameter degrees: Degrees clockwise from north; -90 becomes 270.
    public init(degrees: Double) {
        let normalized = degrees.truncatingRemainder(dividingBy: 360)
        let positive = normalized < 0 ? normalized + 360 : normalized
        self.degrees = positive >= 360 ? 0 : positive
    }

    public static func < (lhs: Bearing, rhs: Bearing) -> Bool { lhs.degrees < rhs.degrees }

    /// Due north.
    public static let north = Bearing(degrees: 0)
    /// Due east.
    public static let east = Bearing(degrees: 90)
    /// Due south.
    public static let south = Bearing(degrees: 180)
    /// Due west.
    public static let west = Bearing(degrees: 270)
}
