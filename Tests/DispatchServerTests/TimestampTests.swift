import Foundation
import Testing

@testable import DispatchServer

@Suite("RFC 3339 timestamps")
struct TimestampTests {
    @Test(
        "valid RFC 3339 date-times parse to the right instant",
        arguments: [
            ("1970-01-01T00:00:00Z", 0.0),
            ("2027-01-15T08:00:00Z", 1_800_000_000),
            ("2027-01-15T08:00:00.250Z", 1_800_000_000.25),
            ("2027-01-15T17:00:00+09:00", 1_800_000_000),
            ("2027-01-15t08:00:00z", 1_800_000_000),
            ("2027-01-14T09:51:00-22:09", 1_800_000_000),
            ("2000-02-29T00:00:00Z", 951_782_400),
            ("0295-12-08T23:02:07.824-22:09", -52_828_253_332.176),
            ("1969-12-31T23:59:59.5Z", -0.5),
        ]
    )
    func valid(text: String, seconds: Double) throws {
        let date = try #require(Timestamps.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6)
    }

    @Test(
        "invalid date-times are rejected",
        arguments: [
            "", "yesterday", "2027-01-15", "2027-01-15T08:00:00", "2027-01-15 08:00:00Z", "2027-13-01T00:00:00Z",
            "2027-02-29T00:00:00Z", "2027-01-32T00:00:00Z", "2027-01-15T24:00:00Z", "2027-01-15T08:00:00+9:00",
            "2027-01-15T08:00:00.Z", "2027-01-15T08:00:00Zjunk", "27-01-15T08:00:00Z", "2027-01-15T08:00:00+24:00",
        ]
    )
    func invalid(text: String) {
        #expect(Timestamps.parse(text) == nil)
    }

    @Test(
        "formatting writes UTC with milliseconds, rounded",
        arguments: [
            (0.0, "1970-01-01T00:00:00.000Z"),
            (-0.5, "1969-12-31T23:59:59.500Z"),
            (951_782_400, "2000-02-29T00:00:00.000Z"),
            (1_800_000_000.9996, "2027-01-15T08:00:01.000Z"),
            (4_102_444_799.999, "2099-12-31T23:59:59.999Z"),
        ]
    )
    func format(seconds: Double, text: String) {
        #expect(Timestamps.format(Date(timeIntervalSince1970: seconds)) == text)
    }

    @Test("formatting and parsing round-trip")
    func roundTrip() throws {
        let date = Date(timeIntervalSince1970: 1_800_000_000.123)
        #expect(Timestamps.format(date) == "2027-01-15T08:00:00.123Z")
        let parsed = try #require(Timestamps.parse(Timestamps.format(date)))
        #expect(abs(parsed.timeIntervalSince1970 - date.timeIntervalSince1970) < 1e-6)
    }
}
