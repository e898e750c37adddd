import DispatchTestSupport
import Foundation
import NIOCore
import Testing

@testable import DispatchServer

@Suite("Location report bodies: the direct reader agrees with JSONDecoder")
struct LocationReportParsingTests {
    /// What `JSONDecoder` makes of a body, the oracle.
    private func decoded(_ text: String) -> LocationUpdateRequest? {
        try? JSONDecoder().decode(LocationUpdateRequest.self, from: Data(text.utf8))
    }

    private func parsed(_ text: String) -> LocationUpdateRequest? {
        LocationReport.parseCommonShape(ByteBuffer(string: text))
    }

    @Test(
        "the common shapes are read directly, exactly as JSONDecoder reads them",
        arguments: [
            #"{"lat":37.5665,"lng":126.978}"#,
            #"{"lng":126.978,"lat":37.5665}"#,
            #" { "lat" : -33.8688 , "lng" : 151.2093 } "#,
            "{\n\t\"lat\": 0,\r\n\"lng\": -0.0}\n",
            #"{"lat":37.5665,"lng":126.978,"recordedAt":"2026-11-25T14:47:13.123Z"}"#,
            #"{"recordedAt":"2026-11-25T23:47:13+09:00","lat":10,"lng":-0.0015}"#,
            #"{"lat":90,"lng":180}"#,
            #"{"lat":37.56650000000000000001,"lng":126.97799999999999}"#,
        ]
    )
    func commonShapes(body: String) throws {
        let direct = try #require(parsed(body))
        #expect(direct == decoded(body))
    }

    @Test(
        "anything else is left to JSONDecoder",
        arguments: [
            #"{"lat":37.5,"lng":127,"lat":38}"#,  // a repeated key
            #"{"lat":37.5,"lng":127,"speed":10}"#,  // another key
            #"{"lat":37.5}"#,  // a missing key
            #"{}"#,
            #"{"lat":"37.5","lng":127}"#,  // a string for a number
            #"{"lat":null,"lng":127}"#,
            #"{"lat":37.5,"lng":127,"recordedAt":null}"#,
            #"{"lat":37.5,"lng":127,"recordedAt":"2026-11-25T14:47:13\u005a"}"#,  // an escape
            #"{"lat":01,"lng":127}"#,  // a leading zero
            #"{"lat":1.,"lng":127}"#,
            #"{"lat":.5,"lng":127}"#,
            #"{"lat":+1,"lng":127}"#,
            #"{"lat":1e999,"lng":127}"#,  // overflows
            #"{"lat":1e1,"lng":-1.5E-3}"#,  // exponents
            #"{"lat":1.0000000000000000000000000000001,"lng":127}"#,  // longer than 32 characters
            #"{"lat":NaN,"lng":127}"#,
            #"{"lat":37.5,"lng":127,}"#,
            #"{"lat":37.5 "lng":127}"#,
            #"{"lat":37.5,"lng":127}x"#,
            #"{"lat":37.5,"lng":127"#,
            #"[37.5,127]"#,
            "",
            "{\"lat\":37.5,\"lng\":127,\"recordedAt\":\"caf\u{e9}\"}",  // non-ASCII
        ]
    )
    func leftToJSONDecoder(body: String) {
        #expect(parsed(body) == nil)
    }

    @Test("random bodies: the reader either declines or agrees with JSONDecoder (fixed seed)")
    func randomized() {
        var random = SeededGenerator(seed: 0x10CA7E)
        let pieces = [
            "{", "}", "\"lat\"", "\"lng\"", "\"recordedAt\"", "\"x\"", ":", ",", " ", "\n", "-", "0", "1", "37.5",
            "1e3", "E-2", ".", "\"2026-11-25T14:47:13Z\"", "\"\\u0041\"", "null", "true", "[", "]",
        ]
        var agreed = 0
        for _ in 0..<20_000 {
            var body = ""
            if Bool.random(using: &random) {
                // Mostly well formed, with a twist somewhere.
                body =
                    #"{"lat":\#(Double.random(in: -90...90, using: &random)),"lng":\#(Double.random(in: -180...180, using: &random))"#
                if Bool.random(using: &random) { body += #","recordedAt":"2026-11-25T14:47:13.5Z""# }
                body += "}"
                let position = Int.random(in: 0...body.count, using: &random)
                if Int.random(in: 0..<3, using: &random) == 0 {
                    body.insert(
                        contentsOf: pieces.randomElement(using: &random) ?? "",
                        at: body.index(body.startIndex, offsetBy: position)
                    )
                }
            } else {
                for _ in 0..<Int.random(in: 1...12, using: &random) {
                    body += pieces.randomElement(using: &random) ?? ""
                }
            }
            if let direct = parsed(body) {
                #expect(direct == decoded(body), "\(body)")
                agreed += 1
            }
        }
        // The generator does produce bodies the reader takes, so the property is exercised.
        #expect(agreed > 1_000)
    }
}
