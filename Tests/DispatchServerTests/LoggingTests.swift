import Foundation
import Logging
import Synchronization
import Testing

@testable import DispatchServer

@Suite("Logs: LOG_FORMAT=json, request IDs, nothing secret or precise")
struct LoggingTests {
    /// A JSON handler whose lines are kept.
    final class Lines: Sendable {
        let kept = Mutex<[String]>([])
        func handler(_ label: String) -> JSONLogHandler {
            JSONLogHandler(label: label, level: .debug) { line in self.kept.withLock { $0.append(line) } }
        }
        func objects() throws -> [[String: Any]] {
            try kept.withLock { lines in
                try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            }
        }
    }

    @Test("one JSON object per line, with the request ID as request_id and metadata flattened")
    func jsonLines() throws {
        let lines = Lines()
        var logger = Logger(label: "dispatch-server") { lines.handler($0) }
        logger[metadataKey: "hb.request.id"] = "abc123"
        logger.info("ride requested", metadata: ["ride.id": "r-1", "count": "\(3)"])
        logger.trace("below the level")
        let objects = try lines.objects()
        #expect(objects.count == 1)
        let line = try #require(objects.first)
        #expect(line["message"] as? String == "ride requested")
        #expect(line["level"] as? String == "info")
        #expect(line["logger"] as? String == "dispatch-server")
        #expect(line["request_id"] as? String == "abc123")
        #expect(line["ride.id"] as? String == "r-1")
        #expect(line["count"] as? String == "3")
        #expect((line["timestamp"] as? String)?.hasSuffix("Z") == true)
    }

    @Test("tokens, secrets and coordinates are redacted, and a path's query is dropped")
    func redaction() throws {
        let lines = Lines()
        let logger = Logger(label: "dispatch-server") { lines.handler($0) }
        logger.warning(
            "careless",
            metadata: [
                "http.authorization": "Bearer eyJhbGciOi.x.y", "auth.token": "t", "db.password": "p",
                "pickup.lat": "37.5665", "driver.location": "37.5,127.0", "pickupLat": "37.5665",
                "accessToken": "t", "platform": "linux",
                "hb.request.path": .stringConvertible("/v1/drivers/nearby?lat=37.5665&lng=126.978"),
                "driver.id": "d-1",
            ]
        )
        let line = try #require(try lines.objects().first)
        #expect(line["platform"] as? String == "linux")
        for key in [
            "http.authorization", "auth.token", "db.password", "pickup.lat", "driver.location", "pickupLat",
            "accessToken",
        ] {
            #expect(line[key] as? String == "[redacted]", "\(key)")
        }
        #expect(line["hb.request.path"] as? String == "/v1/drivers/nearby")
        #expect(line["driver.id"] as? String == "d-1")
        let text = lines.kept.withLock { $0.joined() }
        #expect(!text.contains("37.5665") && !text.contains("eyJ"))
    }

    @Test("LOG_FORMAT is text or json; anything else is refused at start-up")
    func configuration() throws {
        let base = ["AUTH": "disabled"]
        let json = try ServerConfiguration(
            arguments: ["dispatch-server"],
            environment: base.merging(["LOG_FORMAT": "json"]) { $1 }
        )
        #expect(json.logFormat == .json)
        let text = try ServerConfiguration(arguments: ["dispatch-server"], environment: base)
        #expect(text.logFormat == .text)
        #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(
                arguments: ["dispatch-server"],
                environment: base.merging(["LOG_FORMAT": "xml"]) { $1 }
            )
        }
    }
}
