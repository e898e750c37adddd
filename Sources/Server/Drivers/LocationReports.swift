import CoreMetrics
import DispatchCore
import Foundation
import Geo
import HTTPTypes
import NIOCore

/// A driver's location report as the API takes it: `{"lat", "lng", "recordedAt"?}`, validated.
struct LocationReport: Sendable, Equatable {
    /// Where the driver is.
    let location: Coordinate
    /// When the device took the fix, if it said.
    let recordedAt: Date?

    /// Validates a decoded body.
    /// - Throws: `GeoError` for a bad coordinate, `APIError` (`invalid_recorded_at`) for a bad time.
    init(_ body: LocationUpdateRequest) throws {
        location = try LatLng(lat: body.lat, lng: body.lng).coordinate()
        recordedAt = try body.recordedAt.map { text in
            guard let date = Timestamps.parse(text) else {
                throw APIError(
                    .badRequest,
                    code: "invalid_recorded_at",
                    "recordedAt must be an RFC 3339 time, got \"\(text.prefix(64))\""
                )
            }
            return date
        }
    }

    /// Decodes and validates a JSON body: the common shape directly (`parseCommonShape`), anything else
    /// with `JSONDecoder`.
    /// - Throws: `APIError` for malformed JSON or fields, `GeoError` for a bad coordinate.
    init(json bytes: ByteBuffer) throws {
        try self.init(Self.parseCommonShape(bytes) ?? JSONBody.decode(LocationUpdateRequest.self, from: bytes))
    }
}

/// The one place a location report is applied and counted, whichever way it arrived: the HTTP route,
/// the edge's fast path for it (`EdgeHandler`), or the driver channel (WebSocket).
struct LocationReports: Sendable {
    let dispatcher: Dispatcher
    let metrics: ServiceMetrics

    /// Applies one report of one driver.
    /// - Throws: `DispatchError` (`invalid_recorded_at` for a fix too far in the future).
    @discardableResult
    func apply(_ report: LocationReport, from driver: DriverID) throws(DispatchError) -> LocationUpdateOutcome {
        let outcome = try dispatcher.updateLocation(driver, to: report.location, recordedAt: report.recordedAt)
        metrics.record(outcome)
        return outcome
    }

    /// Decodes, validates and applies a report sent as an HTTP body.
    /// - Parameters:
    ///   - rawDriverID: The driver ID from the path.
    ///   - body: The request body.
    /// - Throws: `DispatchError`, `GeoError` or `APIError`, for `APIError(from:)` to answer.
    func apply(rawDriverID: String, body: ByteBuffer) throws {
        let driver = try DriverID(rawDriverID)
        try apply(LocationReport(json: body), from: driver)
    }
}

extension ServiceMetrics {
    /// Counts a report by its outcome.
    func record(_ outcome: LocationUpdateOutcome) {
        switch outcome {
        case .applied: locationUpdatesApplied.increment()
        case .ignoredOutOfOrder: locationUpdatesIgnored.increment()
        case .droppedStale: locationUpdatesDropped.increment()
        }
    }
}
