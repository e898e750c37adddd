import NIOCore

extension LocationReport {
    /// Reads the common shape of a report body, `{"lat": <number>, "lng": <number>, "recordedAt":
    /// "<time>"}` (any order, `recordedAt` optional), with `FlatJSON` rather than `JSONDecoder`.
    /// - Returns: The fields, or nil when the body is not in the common shape (then `JSONDecoder`
    ///   decodes it, and words any error).
    static func parseCommonShape(_ buffer: ByteBuffer) -> LocationUpdateRequest? {
        buffer.withUnsafeReadableBytes { bytes in
            FlatJSON.read(bytes, keys: keys).flatMap(fields)
        }
    }

    /// The body's keys.
    static let keys: Set<String> = ["lat", "lng", "recordedAt"]

    /// A report's fields from a flat object's members; nil when a field is missing or of another type.
    static func fields(_ members: [(key: String, value: FlatJSON.Value)]) -> LocationUpdateRequest? {
        var lat: Double?
        var lng: Double?
        var recordedAt: String?
        for (key, value) in members {
            switch (key, value) {
            case ("lat", .number(let number)): lat = number
            case ("lng", .number(let number)): lng = number
            case ("recordedAt", .string(let text)): recordedAt = text
            case ("lat", _), ("lng", _), ("recordedAt", _): return nil
            default: continue
            }
        }
        guard let lat, let lng else { return nil }
        return LocationUpdateRequest(lat: lat, lng: lng, recordedAt: recordedAt)
    }
}
