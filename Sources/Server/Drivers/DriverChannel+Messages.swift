import DispatchCore
import Foundation
import HTTPTypes
import NIOCore

/// What a driver app asks on its channel: one JSON object per line of a text message.
///
/// ```
/// {"type":"location","lat":37.5665,"lng":126.978,"recordedAt":"2026-12-01T08:00:00.000Z","id":"l1"}
/// {"type":"accept","rideId":"<ride>","id":"c7"}          // also decline, arrive, start, complete, cancel
/// {"type":"status","status":"offline","id":"c8"}
/// ```
/// `id` is the app's own (1-64 of `A-Z a-z 0-9 _ - . :`); a message with one is answered with an `ack`
/// or an `error` carrying it, a message without one only with an `error` if it fails.
enum ChannelRequest: Equatable, Sendable {
    case location(LocationReport)
    case status(String)
    case act(DriverAction, RideID)
    case cancel(RideID)
}

/// One line of a channel message, read.
struct ChannelMessage: Sendable {
    /// The app's correlation ID, when it gave a valid one.
    let id: String?
    /// The request, or why it cannot be served.
    let request: Result<ChannelRequest, APIError>

    /// The keys a channel message may have.
    static let keys: Set<String> = ["type", "id", "lat", "lng", "recordedAt", "rideId", "status"]

    /// Reads one line: the common shapes with `FlatJSON`, anything else with `JSONDecoder`.
    init(line: UnsafeRawBufferPointer) {
        let body: ChannelMessageBody
        if let members = FlatJSON.read(line, keys: Self.keys), let flat = ChannelMessageBody(members) {
            body = flat
        } else {
            do {
                body = try JSONBody.decode(ChannelMessageBody.self, from: ByteBuffer(bytes: line))
            } catch {
                self.id = nil
                self.request = .failure(APIError(from: error, method: .get, path: DriverChannel.path))
                return
            }
        }
        if let id = body.id, !Self.isValidID(id) {
            self.id = nil
            self.request = .failure(
                APIError(
                    .badRequest,
                    code: "invalid_message_id",
                    "id must be 1-64 of A-Z, a-z, 0-9, '_', '-', '.', ':'"
                )
            )
            return
        }
        self.id = body.id
        self.request = Result { try body.request() }.mapError {
            APIError(from: $0, method: .get, path: DriverChannel.path)
        }
    }

    /// Whether an app's correlation ID is safe to echo as is.
    static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."),
                    UInt8(ascii: ":"):
                    true
                default:
                    false
                }
            }
    }
}

/// A channel message's fields, as JSON has them.
struct ChannelMessageBody: Decodable, Equatable {
    let type: String
    let id: String?
    let lat: Double?
    let lng: Double?
    let recordedAt: String?
    let rideId: String?
    let status: String?

    init(
        type: String,
        id: String?,
        lat: Double?,
        lng: Double?,
        recordedAt: String?,
        rideId: String?,
        status: String?
    ) {
        self.type = type
        self.id = id
        self.lat = lat
        self.lng = lng
        self.recordedAt = recordedAt
        self.rideId = rideId
        self.status = status
    }

    /// The fields of a flat object, when each has its JSON type; nil otherwise (then `JSONDecoder`
    /// reads the line and words the error).
    init?(_ members: [(key: String, value: FlatJSON.Value)]) {
        var strings: [String: String] = [:]
        var numbers: [String: Double] = [:]
        for (key, value) in members {
            switch value {
            case .string(let text): strings[key] = text
            case .number(let number): numbers[key] = number
            }
        }
        guard let type = strings["type"], numbers.keys.allSatisfy({ $0 == "lat" || $0 == "lng" }),
            strings["lat"] == nil, strings["lng"] == nil
        else { return nil }
        self.init(
            type: type,
            id: strings["id"],
            lat: numbers["lat"],
            lng: numbers["lng"],
            recordedAt: strings["recordedAt"],
            rideId: strings["rideId"],
            status: strings["status"]
        )
    }

    /// What the message asks.
    /// - Throws: `APIError`, `DispatchError` or `GeoError` naming what is missing or wrong.
    func request() throws -> ChannelRequest {
        func required<Value>(_ value: Value?, _ name: String) throws -> Value {
            guard let value else { throw APIError(.badRequest, code: "missing_field", "field '\(name)' is required") }
            return value
        }
        switch type {
        case "location":
            return .location(
                try LocationReport(
                    LocationUpdateRequest(
                        lat: try required(lat, "lat"),
                        lng: try required(lng, "lng"),
                        recordedAt: recordedAt
                    )
                )
            )
        case "status":
            return .status(try required(status, "status"))
        case "cancel":
            return .cancel(try RideID(try required(rideId, "rideId")))
        default:
            guard let action = DriverAction(rawValue: type) else {
                throw APIError(
                    .badRequest,
                    code: "invalid_message_type",
                    "type must be location, status, accept, decline, arrive, start, complete or cancel, "
                        + "got \"\(type.prefix(32))\""
                )
            }
            return .act(action, try RideID(try required(rideId, "rideId")))
        }
    }
}

/// What the service sends on a driver's channel, one JSON object per text message.
enum ChannelAnswer {
    /// First on every connection: where the driver stands.
    static func hello(
        driver: Driver?,
        id: DriverID,
        offer: Offer?,
        ride: Ride?,
        subscription: DriverSubscription
    )
        -> String
    {
        encode(
            Hello(
                type: "hello",
                driverId: id.rawValue,
                cursor: subscription.latest.description,
                resumed: subscription.resumed,
                driver: driver.map(DriverResponse.init),
                offer: offer.map(OfferResponse.init),
                ride: ride.map(RideResponse.init)
            )
        )
    }

    /// A domain event of the driver's: an offer, or an event of its ride.
    static func event(_ event: RideEvent, cursor: DriverCursor) -> String {
        #"{"cursor":"\#(cursor)","event":\#(RideEventPayload.json(event)),"type":"event"}"#
    }

    /// A location report's acknowledgement (written by hand: it is the most frequent message).
    static func ack(id: String, outcome: LocationUpdateOutcome) -> String {
        let word =
            switch outcome {
            case .applied: "applied"
            case .ignoredOutOfOrder: "ignored_out_of_order"
            case .droppedStale: "dropped_stale"
            }
        return #"{"id":"\#(id)","outcome":"\#(word)","type":"ack"}"#
    }

    /// A command's acknowledgement, with the ride after it.
    static func ack(id: String, ride: Ride) -> String {
        encode(RideAck(type: "ack", id: id, ride: RideResponse(ride)))
    }

    /// A status change's acknowledgement, with the driver after it.
    static func ack(id: String, driver: Driver) -> String {
        encode(DriverAck(type: "ack", id: id, driver: DriverResponse(driver)))
    }

    /// A message that failed, with the status and error an HTTP request would have got.
    static func error(id: String?, _ error: APIError) -> String {
        encode(
            ErrorAnswer(
                type: "error",
                id: id,
                status: error.status.code,
                error: .init(code: error.code, message: error.message)
            )
        )
    }

    private struct Hello: Encodable {
        let type: String
        let driverId: String
        let cursor: String
        let resumed: Bool
        let driver: DriverResponse?
        let offer: OfferResponse?
        let ride: RideResponse?
    }

    private struct RideAck: Encodable {
        let type: String
        let id: String
        let ride: RideResponse
    }

    private struct DriverAck: Encodable {
        let type: String
        let id: String
        let driver: DriverResponse
    }

    private struct ErrorAnswer: Encodable {
        let type: String
        let id: String?
        let status: Int
        let error: APIError.Body.Detail
    }

    private static func encode(_ value: some Encodable) -> String {
        (try? JSONBody.encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
