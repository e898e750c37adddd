import DequeModule
import Foundation
import Geo
import LoadTestKit
import NIOCore
import Synchronization

/// What the channel drivers wait for: each one's connection, the reports and calls it sent that are
/// not answered yet, and the cursor it resumes from after a reconnect.
struct ChannelDrivers: Sendable {
    struct Driver: Sendable {
        var connection: ChannelConnection?
        var cursor: String?
        /// Reports sent, oldest first, with when each was due (the channel answers in order).
        var reports = Deque<Double>()
        /// Calls sent, by message ID.
        var calls: [String: (call: RideCall, rideID: String, sentAt: Double)] = [:]
    }

    var drivers: [String: Driver] = [:]
    var nextID = 0
    /// Set when the run ends: closed connections are not reopened.
    var closing = false
}

/// The channel drivers: one WebSocket each, for reports, calls, offers and their rides' events.
extension LoadTest {
    /// Opens the channel of every channel driver, a few hundred at a time.
    /// - Returns: False when a channel could not be opened.
    func openChannels(host: String, port: Int) async -> Bool {
        let ids = world.withLock { world in world.fleet.drivers.filter { $0.transport == .channel }.map(\.id) }
        guard !ids.isEmpty else { return true }
        say("opening \(ids.count) driver channels…")
        var failed = 0
        for batch in stride(from: 0, to: ids.count, by: 256) {
            await withTaskGroup(of: Bool.self) { group in
                for id in ids[batch..<min(ids.count, batch + 256)] {
                    group.addTask { await self.connect(id, host: host, port: port, after: nil) }
                }
                for await opened in group where !opened { failed += 1 }
            }
        }
        if failed > 0 { say("could not open \(failed) driver channels") }
        return failed == 0
    }

    /// Opens (or reopens) one driver's channel.
    func connect(_ driverID: String, host: String, port: Int, after cursor: String?) async -> Bool {
        let path = "/v1/drivers/\(driverID)/channel" + (cursor.map { "?after=\($0)" } ?? "")
        do {
            let connection = try await ChannelConnection.connect(
                host: host,
                port: port,
                driverID: driverID,
                path: path,
                authorization: client.credentials.cached(.driver(driverID)),
                group: channelLoop,
                receive: { [self] driverID, text in received(text, on: driverID) },
                closed: { [self] driverID in channelClosed(driverID, host: host, port: port) }
            )
            channels.withLock { $0.drivers[driverID, default: .init()].connection = connection }
            return true
        } catch {
            world.withLock { unanswered("channel: cannot open (\(error))", at: runSecond(), in: &$0) }
            return false
        }
    }

    func closeChannels() {
        let connections = channels.withLock { channels in
            channels.closing = true
            return channels.drivers.values.compactMap(\.connection)
        }
        for connection in connections { connection.close() }
    }

    /// A report, over the channel, with the fix's time.
    func sendReport(_ driverID: String, _ position: Coordinate, dueAt: Double) {
        let recordedAt = RFC3339.format(secondsSince1970: startWallClock + dueAt)
        let connection = channels.withLock { channels -> ChannelConnection? in
            guard let connection = channels.drivers[driverID]?.connection else { return nil }
            channels.drivers[driverID]?.reports.append(dueAt)
            return connection
        }
        connection?.send(
            #"{"type":"location","lat":\#(position.latitude),"lng":\#(position.longitude),"#
                + #""recordedAt":"\#(recordedAt)","id":"l"}"#
        )
    }

    /// A call, over the channel.
    func sendCall(_ call: RideCall, rideID: String, from driverID: String, sentAt: Double) {
        let (connection, id) = channels.withLock { channels -> (ChannelConnection?, String) in
            channels.nextID += 1
            let id = "c\(channels.nextID)"
            guard let connection = channels.drivers[driverID]?.connection else { return (nil, id) }
            channels.drivers[driverID]?.calls[id] = (call, rideID, sentAt)
            return (connection, id)
        }
        guard let connection else {
            // No channel at the moment (reconnecting): the call fails, as an app's would.
            let at = now()
            world.withLock { world in
                unanswered("channel \(call.rawValue): no connection", at: sentAt - scenario.warmupSeconds, in: &world)
                world.fleet.finished(call, rideID: rideID, by: driverID, succeeded: false, now: at)
            }
            return
        }
        connection.send(#"{"type":"\#(call.rawValue)","rideId":"\#(rideID)","id":"\#(id)"}"#)
    }

    /// A message from the service on a driver's channel (on the channel's event loop).
    func received(_ text: ByteBuffer, on driverID: String) {
        let at = now()
        // Most messages are a report's acknowledgement: read without a JSON decoder (the generator
        // must cost less than the service it measures).
        if text.readableBytesView.elementsEqual(Self.appliedReportAck) {
            reportAnswered(on: driverID, at: at, acknowledged: true, errorCode: nil)
            return
        }
        guard let message = try? JSONDecoder().decode(Wire.ChannelMessage.self, from: Data(text.readableBytesView))
        else { return }
        switch (message.type, message.id) {
        case ("hello", _):
            if let cursor = message.cursor { channels.withLock { $0.drivers[driverID]?.cursor = cursor } }
        case ("event", _):
            if let cursor = message.cursor { channels.withLock { $0.drivers[driverID]?.cursor = cursor } }
            guard let event = message.event else { return }
            world.withLock { world in
                if event.type == "ride_offered", event.offer?.driverId == driverID, let offer = event.offer,
                    let pickup = offer.pickup.flatMap({ try? Coordinate(latitude: $0.lat, longitude: $0.lng) }),
                    let dropoff = offer.dropoff.flatMap({ try? Coordinate(latitude: $0.lat, longitude: $0.lng) })
                {
                    let offered = SimOffer(rideID: event.rideId, pickup: pickup, dropoff: dropoff)
                    if world.fleet.offered(offered, to: driverID, now: at) {
                        world.recorder.count(.offersSeen)
                        if case .considering(_, _, .ignore) = world.fleet.driver(driverID)?.phase {
                            world.recorder.count(.offersIgnored)
                        }
                    }
                } else if Self.endings.contains(event.type) {
                    world.fleet.rideEnded(event.rideId, for: driverID, now: at)
                }
            }
        case (_, "l"?):
            reportAnswered(on: driverID, at: at, acknowledged: message.type == "ack", errorCode: message.error?.code)
        case (_, let id?):
            guard let sent = channels.withLock({ $0.drivers[driverID]?.calls.removeValue(forKey: id) }) else { return }
            let endpoint = "channel \(sent.call.rawValue)"
            let succeeded = message.type == "ack"
            world.withLock { world in
                world.recorder.call(endpoint, latency: at - sent.sentAt)
                if !succeeded {
                    let code = message.error?.code ?? "-"
                    switch (message.status, code) {
                    case (409, _): world.recorder.conflict("\(endpoint) 409 \(code)")
                    case (_, let code) where DispatchClient.refusedUpFront.contains(code):
                        world.recorder.shed(endpoint)
                    default:
                        unanswered(
                            "\(endpoint) \(message.status ?? 0) \(code)",
                            at: sent.sentAt - scenario.warmupSeconds,
                            in: &world
                        )
                    }
                }
                if sent.call == .decline, succeeded { world.recorder.count(.offersDeclined) }
                world.fleet.finished(sent.call, rideID: sent.rideID, by: driverID, succeeded: succeeded, now: at)
            }
        default:
            break
        }
    }

    /// A report's answer: acknowledged (applied, or ignored as out of order or late), or an error.
    private func reportAnswered(on driverID: String, at: Double, acknowledged: Bool, errorCode: String?) {
        let dueAt = channels.withLock { $0.drivers[driverID]?.reports.popFirst() }
        guard let dueAt else { return }
        let latency = at - dueAt
        world.withLock { world in
            world.recorder.call("channel location", latency: latency)
            if acknowledged {
                world.recorder.locationUpdated(at: dueAt - scenario.warmupSeconds, latency: latency)
            } else if errorCode == "overloaded" {
                world.recorder.shed("channel location")
            } else if !world.stopping {
                unanswered("channel location \(errorCode ?? "-")", at: dueAt - scenario.warmupSeconds, in: &world)
            }
        }
    }

    /// A report's acknowledgement, as the service writes it.
    static let appliedReportAck = Array(#"{"id":"l","outcome":"applied","type":"ack"}"#.utf8)

    /// A channel closed: unanswered reports and calls are lost (as for an app), and the driver
    /// reconnects a second later from its last cursor, as a driver app does.
    func channelClosed(_ driverID: String, host: String, port: Int) {
        let (closing, calls, cursor) = channels.withLock { channels in
            let driver = channels.drivers[driverID]
            channels.drivers[driverID]?.connection = nil
            channels.drivers[driverID]?.reports.removeAll()
            channels.drivers[driverID]?.calls = [:]
            return (channels.closing, driver?.calls ?? [:], driver?.cursor)
        }
        guard !closing else { return }
        let at = now()
        world.withLock { world in
            world.recorder.count(.channelReconnects)
            unanswered("channel: closed by the service", at: at - scenario.warmupSeconds, in: &world)
            for (_, sent) in calls {
                world.fleet.finished(sent.call, rideID: sent.rideID, by: driverID, succeeded: false, now: at)
            }
        }
        Task {
            try? await Task.sleep(for: .seconds(1))
            _ = await connect(driverID, host: host, port: port, after: cursor)
        }
    }

    /// Events that end a driver's part in a ride.
    static let endings: Set<String> = [
        "offer_expired", "ride_cancelled", "ride_unfulfilled", "driver_cancelled", "assignment_lapsed",
    ]
}
