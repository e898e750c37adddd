import Foundation
import Hummingbird
import NIOCore

extension Request {
    /// Reads the body (at most `APIError.maximumBodyBytes`) and decodes it as JSON.
    ///
    /// Errors name what is wrong: `unsupported_media_type` for a body that is not `application/json`,
    /// `invalid_json` for malformed JSON, `duplicate_key`, `missing_field` and `invalid_field` with the
    /// field's name, `payload_too_large` above the limit.
    /// - Parameter type: The payload type.
    /// - Returns: The decoded payload.
    mutating func decodeJSON<Payload: Decodable>(as type: Payload.Type) async throws -> Payload {
        let body = try await collectJSONBody()
        // No body is an empty object: a command whose actor the token names needs no fields.
        return try JSONBody.decode(Payload.self, from: body.readableBytes == 0 ? ByteBuffer(string: "{}") : body)
    }

    /// Reads the body (at most `APIError.maximumBodyBytes`), refusing one that is not declared JSON.
    /// - Throws: `APIError.unsupportedMediaType`, `APIError.payloadTooLarge`.
    mutating func collectJSONBody() async throws -> ByteBuffer {
        let body = try await collectBody(upTo: APIError.maximumBodyBytes)
        guard body.readableBytes == 0 || JSONBody.isJSON(contentType: headers[.contentType]) else {
            throw APIError.unsupportedMediaType
        }
        return body
    }
}

/// Request bodies as JSON, decoded the same way on every path (routes, the edge, the driver channel).
enum JSONBody {
    /// Decodes a body, answering malformed JSON and bad fields with the API's error codes.
    /// - Throws: `APIError` (`invalid_json`, `missing_field`, `invalid_field`).
    static func decode<Payload: Decodable>(_ type: Payload.Type, from buffer: ByteBuffer) throws -> Payload {
        if let key = buffer.withUnsafeReadableBytes(DuplicateKeys.first(in:)) {
            throw APIError(.badRequest, code: "duplicate_key", "key '\(key.prefix(64))' appears twice in one object")
        }
        do {
            return try decoder.decode(Payload.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        }
    }

    /// Whether a `Content-Type` declares JSON: `application/json`, with or without parameters such as
    /// `charset`. Every body the API reads must; one without a type is refused too, since `curl -d`
    /// calls its body a form.
    static func isJSON(contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    /// Shared: decoding keeps no state between calls, and making a decoder per request costs an
    /// allocation on the hottest path.
    private static let decoder = JSONDecoder()

    /// How every answer is written: keys in a stable order, so answers are easy to read, diff and
    /// document.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension APIError {
    /// A client-facing description of a JSON decoding failure.
    init(decoding error: DecodingError) {
        func path(_ context: DecodingError.Context, appending key: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(.badRequest, code: "missing_field", "field '\(path(context, appending: key))' is required")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            guard !context.codingPath.isEmpty else {
                self.init(.badRequest, code: "invalid_json", "request body must be a JSON object")
                return
            }
            self.init(.badRequest, code: "invalid_field", "field '\(path(context))' must be \(Self.describe(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(.badRequest, code: "invalid_json", "request body is not valid JSON")
            } else {
                self.init(
                    .badRequest,
                    code: "invalid_field",
                    "field '\(path(context))' is invalid: \(context.debugDescription)"
                )
            }
        @unknown default:
            self.init(.badRequest, code: "invalid_json", "request body could not be decoded")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Float.Type, is Int.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        default: "of type \(type)"
        }
    }
}
