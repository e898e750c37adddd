import DispatchCore
import Foundation

/// The ops stream's wire format: Server-Sent Events whose `data:` is one JSON object.
///
/// `event: snapshot` carries every driver and unfinished ride, the service area, the settings the page
/// needs and the panel's history (a viewer gets one first, and again if it fell too far behind); each
/// `event: delta` after it carries only the drivers and rides that changed since the viewer's previous
/// frame (`drivers`, `rides`), those that are gone (`driversGone`,
/// `ridesGone`) and the panel's numbers (`stats`). Drivers are `[id, lat, lon, state]` or, holding a
/// ride, `[id, lat, lon, state, rideId]`; rides are `[id, status, pickupLat, pickupLon, dropoffLat,
/// dropoffLon, searchRadiusMeters, driverId|null]`; coordinates in degrees to five places. IDs need
/// no escaping: every ID is `[A-Za-z0-9_-]`.
enum OpsStreamEncoding {
    /// An update as its event.
    static func encode(_ update: OpsFeed.Update, feed: OpsFeed) -> String {
        switch update {
        case .snapshot(let map): snapshot(map, feed: feed)
        case .delta(let frame): delta(frame)
        }
    }

    /// The first frame a viewer gets (and the one it gets after falling too far behind).
    static func snapshot(_ map: OpsFeed.Map, feed: OpsFeed) -> String {
        var out = "event: snapshot\ndata: {"
        out += "\"seq\":\(map.frame.sequence),\"at\":\"\(Timestamps.format(map.frame.at))\""
        out += ",\"frameMilliseconds\":\(feed.settings.frameInterval.milliseconds)"
        out += ",\"freshnessSeconds\":\(feed.freshness.milliseconds / 1_000)"
        if let area = feed.serviceArea {
            out += ",\"area\":{\"south\":\(area.minLatitude),\"west\":\(area.minLongitude)"
            out += ",\"north\":\(area.maxLatitude),\"east\":\(area.maxLongitude)}"
        } else {
            out += ",\"area\":null"
        }
        out += ",\"drivers\":["
        appendDrivers(map.drivers, to: &out)
        out += "],\"rides\":["
        appendRides(map.rides, to: &out)
        out += "],\"stats\":"
        appendStats(map.frame.stats, to: &out)
        out += ",\"history\":["
        for (index, stats) in feed.history.enumerated() {
            if index > 0 { out += "," }
            appendStats(stats, to: &out)
        }
        out += "]}\n\n"
        return out
    }

    /// What changed since the frame a viewer has (`frame.changes`, up to `frame.sequence`).
    static func delta(_ frame: OpsFeed.Frame) -> String {
        var out = "event: delta\ndata: {"
        out += "\"seq\":\(frame.sequence),\"at\":\"\(Timestamps.format(frame.at))\",\"drivers\":["
        appendDrivers(frame.changes.drivers, to: &out)
        out += "],\"driversGone\":["
        appendIDs(frame.changes.driversGone, to: &out)
        out += "],\"rides\":["
        appendRides(frame.changes.rides, to: &out)
        out += "],\"ridesGone\":["
        appendIDs(frame.changes.ridesGone, to: &out)
        out += "],\"stats\":"
        appendStats(frame.stats, to: &out)
        out += "}\n\n"
        return out
    }

    private static func appendDrivers(_ drivers: [DriverID: OpsFeed.DriverMark], to out: inout String) {
        var first = true
        for (id, mark) in drivers {
            if !first { out += "," }
            first = false
            out += "[\"\(id.rawValue)\","
            appendPoint(mark.position, to: &out)
            out += ",\"\(mark.state.rawValue)\""
            if let ride = mark.rideID { out += ",\"\(ride.rawValue)\"" }
            out += "]"
        }
    }

    private static func appendRides(_ rides: [RideID: OpsFeed.RideMark], to out: inout String) {
        var first = true
        for (id, mark) in rides {
            if !first { out += "," }
            first = false
            out += "[\"\(id.rawValue)\",\"\(mark.status.rawValue)\","
            appendPoint(mark.pickup, to: &out)
            out += ","
            appendPoint(mark.dropoff, to: &out)
            out += ",\(mark.searchRadius),"
            out += mark.driverID.map { "\"\($0.rawValue)\"" } ?? "null"
            out += "]"
        }
    }

    private static func appendIDs(_ ids: Set<some RawIdentifier>, to out: inout String) {
        var first = true
        for id in ids {
            if !first { out += "," }
            first = false
            out += "\"\(id.rawValue)\""
        }
    }

    /// `lat,lon` in degrees with five decimals, from 1e-5 degree integers (exact: no float printing).
    private static func appendPoint(_ point: OpsFeed.Point, to out: inout String) {
        appendFixed(point.latitude, to: &out)
        out += ","
        appendFixed(point.longitude, to: &out)
    }

    private static func appendFixed(_ value: Int32, to out: inout String) {
        let magnitude = Int(value.magnitude)
        if value < 0 { out += "-" }
        out += String(magnitude / 100_000)
        out += "."
        let fraction = String(magnitude % 100_000)
        out += String(repeating: "0", count: 5 - fraction.count) + fraction
    }

    static func appendStats(_ stats: OpsFeed.Stats, to out: inout String) {
        let drivers = stats.drivers
        out += "{\"at\":\"\(Timestamps.format(stats.at))\""
        out += ",\"drivers\":{\"available\":\(drivers.available),\"stale\":\(drivers.stale)"
        out += ",\"offline\":\(drivers.offline),\"offered\":\(drivers.offered)"
        out += ",\"en_route\":\(drivers.enRoute),\"on_trip\":\(drivers.onTrip)}"
        out += ",\"openRides\":\(stats.openRides),\"searching\":\(stats.searching)"
        out += ",\"totals\":"
        appendTotals(stats.totals, to: &out)
        out += ",\"perMinute\":"
        appendTotals(stats.perMinute, to: &out)
        out += ",\"matchLatencySeconds\":"
        appendQuantiles(stats.matchLatency, to: &out)
        if let store = stats.store {
            out += ",\"store\":{\"queuedEvents\":\(store.queuedEvents),\"available\":\(store.available)"
            out += ",\"commitSeconds\":"
            appendQuantiles(store.commitLatency, to: &out)
            out += "}"
        } else {
            out += ",\"store\":null"
        }
        let leadership = stats.leadership
        out += ",\"leadership\":{\"role\":\"\(leadership.role)\",\"pod\":\(jsonString(leadership.pod))"
        out += ",\"region\":\(jsonString(leadership.region)),\"epoch\":\(leadership.epoch)}}"
    }

    private static func appendTotals(_ totals: OpsRecorder.Totals, to out: inout String) {
        out += "{\"requested\":\(totals.requested),\"accepted\":\(totals.accepted)"
        out += ",\"declined\":\(totals.declined),\"expired\":\(totals.expired),\"withdrawn\":\(totals.withdrawn)"
        out += ",\"completed\":\(totals.completed),\"cancelled\":\(totals.cancelled)"
        out += ",\"unfulfilled\":\(totals.unfulfilled)}"
    }

    private static func appendQuantiles(_ quantiles: [Double]?, to out: inout String) {
        guard let quantiles, quantiles.count == 2 else {
            out += "null"
            return
        }
        out += "{\"p50\":\(rounded(quantiles[0])),\"p99\":\(rounded(quantiles[1]))}"
    }

    private static func rounded(_ seconds: Double) -> Double { (seconds * 1e6).rounded() / 1e6 }

    /// A string from configuration (pod and region names), as JSON.
    static func jsonString(_ value: String) -> String {
        let data = (try? JSONEncoder().encode(value)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The ride and driver IDs, for the list of those gone.
protocol RawIdentifier: Hashable {
    var rawValue: String { get }
}

extension DriverID: RawIdentifier {}
extension RideID: RawIdentifier {}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000
    }
}
