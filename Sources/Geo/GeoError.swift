/// The error thrown by the `Geo` module: a stable machine-readable code and a human-readable message.
///
/// Modelled on postgres-nio's `PSQLError`: a struct wrapping a code with static members, so new codes
/// can be added without breaking exhaustive switches in callers.
public struct GeoError: Error, Hashable, Sendable {
    /// What kind of input was rejected.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidLatitude = "invalid_latitude"
            case invalidLongitude = "invalid_longitude"
            case invalidRadius = "invalid_radius"
            case invalidLimit = "invalid_limit"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A latitude that is not a finite number in [-90, 90].
        public static let invalidLatitude = Code(.invalidLatitude)
        /// A longitude that is not a finite number in [-180, 180].
        public static let invalidLongitude = Code(.invalidLongitude)
        /// A search radius that is negative, not finite or above the index's maximum.
        public static let invalidRadius = Code(.invalidRadius)
        /// A result limit below one.
        public static let invalidLimit = Code(.invalidLimit)

        /// The code in `snake_case`, for example `invalid_latitude`.
        public var description: String { base.rawValue }
    }

    /// What kind of input was rejected.
    public let code: Code
    /// What was wrong, naming the offending value.
    public let message: String

    @usableFromInline
    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension GeoError: CustomStringConvertible {
    /// The code and the message, for logs.
    public var description: String { "\(code): \(message)" }
}
