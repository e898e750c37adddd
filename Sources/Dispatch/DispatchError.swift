/// The error thrown by `DispatchCore`: a stable machine-readable code and a message for people.
///
/// The server maps each code to an HTTP status in one place; the core knows nothing of HTTP.
public struct DispatchError: Error, Hashable, Sendable {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidDriverID = "invalid_driver_id"
            case invalidCoordinate = "invalid_coordinate"
            case invalidRecordedAt = "invalid_recorded_at"
            case invalidStatus = "invalid_status"
            case invalidQuery = "invalid_query"
            case driverNotFound = "driver_not_found"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A driver ID that is not 1–64 characters of `[A-Za-z0-9_-]`.
        public static let invalidDriverID = Code(.invalidDriverID)
        /// A latitude or longitude out of range or not finite.
        public static let invalidCoordinate = Code(.invalidCoordinate)
        /// A `recordedAt` time too far in the future to trust.
        public static let invalidRecordedAt = Code(.invalidRecordedAt)
        /// A driver status that cannot be set.
        public static let invalidStatus = Code(.invalidStatus)
        /// A query parameter (radius, limit) out of range.
        public static let invalidQuery = Code(.invalidQuery)
        /// No driver with that ID has ever reported.
        public static let driverNotFound = Code(.driverNotFound)

        /// The code in `snake_case`, for example `driver_not_found`.
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public let code: Code
    /// What was wrong, naming the offending value.
    public let message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The machine-readable code.
    ///   - message: The explanation for people.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension DispatchError: CustomStringConvertible {
    /// The code and the message, for logs.
    public var description: String { "\(code): \(message)" }
}
