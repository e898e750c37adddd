import DispatchCore
import Foundation
import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// A driver app's one persistent connection (`GET /v1/drivers/{driverId}/channel`, WebSocket): location
/// reports and ride commands up, offers and the events of its rides down.
///
/// On connecting, the app gets a `hello` with where it stands (its offer and ride, if any) and the
/// cursor of its latest event; with `?after=<cursor>` from an earlier connection, the events it
/// missed follow first (`"resumed": true` when none was lost). Then, in order: every message the app
/// sends is applied as the HTTP route would apply it (reports through `LocationReports`, commands
/// through `RideService`, so a command is acknowledged only once durable) and answered when it has
/// an `id`; every event of the driver's arrives as an `event` with its cursor.
///
/// A channel is one of the driver's event streams (`StreamLimits`): a third stream of the same driver
/// closes the oldest (`1000`, "replaced by a newer stream"), and past `MAX_STREAMS` a new channel is
/// closed at once with `1013`, "capacity exhausted".
///
/// A channel that drops changes nothing: the driver is treated exactly like one that stopped
/// reporting (fresh until `DRIVER_TTL_SECONDS` after its last report, an open offer expiring as
/// usual). At shutdown the service closes every channel.
struct DriverChannel: Sendable {
    let dispatcher: Dispatcher
    let hub: EventHub
    let reports: LocationReports
    let rides: RideService
    let statuses: DriverStatusService
    /// The caller's rate limits, the same buckets as its HTTP requests.
    let limiter: RateLimiter
    /// A channel is one of the driver's (at most two) event streams.
    let streams: StreamLimits

    /// The route, in the router's words.
    static let path = "/v1/drivers/{driverId}/channel"
    /// The largest message the service reads (a message may hold up to `maximumLines` lines).
    static let maximumMessageBytes = 16 * 1024
    /// The most lines one message may carry.
    static let maximumLines = 64

    /// Whether a request target names a channel the service can open (a valid driver ID); anything
    /// else is answered as a plain request by the route (`DriverChannelController`).
    static func accepts(_ uri: String) -> Bool {
        guard let raw = rawDriverID(in: uri) else { return true }  // not the channel
        return DriverID.isValid(raw)
    }

    /// The driver a channel's request target names, if it names a valid one.
    static func driverID(in uri: String) -> DriverID? {
        rawDriverID(in: uri).flatMap { try? DriverID($0) }
    }

    /// The percent-decoded `{driverId}` of `/v1/drivers/{driverId}/channel[?query]`, if the target is that.
    private static func rawDriverID(in uri: String) -> String? {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let prefix = "/v1/drivers/"
        let suffix = "/channel"
        guard path.hasPrefix(prefix), path.hasSuffix(suffix) else { return nil }
        let raw = String(path.dropFirst(prefix.count).dropLast(suffix.count))
        return raw.removingPercentEncoding ?? raw
    }

    /// Serves one connection until the app or the service closes it, or its token expires (the
    /// channel then closes with `1008 policy violation`, "token expired": reconnect with a new one).
    func serve(
        driver id: DriverID,
        as caller: Caller,
        after cursor: DriverCursor?,
        validFor validity: @escaping @Sendable () -> Duration,
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        logger: Logger
    ) async {
        let ticket: StreamTicket
        do {
            ticket = try streams.open(for: caller)
        } catch {
            // 1013: try again later.
            try? await outbound.close(.unknown(1013), reason: "capacity exhausted")
            return
        }
        defer { streams.release(ticket) }
        ticket.onClose {
            Task { try? await outbound.close(.normalClosure, reason: "replaced by a newer stream") }
        }
        let subscription = hub.subscribe(toDriver: id, after: cursor, keepalives: false)
        let driver = dispatcher.driver(id)
        let hello = ChannelAnswer.hello(
            driver: driver,
            id: id,
            offer: hub.offer(heldBy: id),
            ride: driver?.rideID.flatMap { hub.ride($0) },
            subscription: subscription
        )
        do { try await outbound.write(.text(hello)) } catch { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Down: the driver's events. The hub ends the stream at shutdown (or when the app
                // cannot keep up), which ends the connection.
                for await item in subscription.stream {
                    guard case .driverEvent(let event, let cursor) = item else { continue }
                    do { try await outbound.write(.text(ChannelAnswer.event(event, cursor: cursor))) } catch { return }
                }
            }
            group.addTask {
                // Up: the app's messages, in order.
                do {
                    for try await message in inbound.messages(maxSize: Self.maximumMessageBytes) {
                        for answer in await answers(to: message, from: id, as: caller) {
                            try await outbound.write(.text(answer))
                        }
                    }
                } catch {
                    logger.debug("driver channel ended", metadata: ["driver.id": "\(id)", "error": "\(error)"])
                }
            }
            group.addTask {
                // The subject is bound to the connection for as long as its token is valid, by the
                // service's clock (checked at least once a minute).
                var remaining = validity()
                while remaining > .zero {
                    do { try await Task.sleep(for: min(remaining, .seconds(60))) } catch { return }
                    remaining = validity()
                }
                try? await outbound.close(.policyViolation, reason: "token expired")
            }
            // Whichever ends first ends the connection.
            await group.next()
            group.cancelAll()
        }
    }

    /// Applies every line of one message, in order, and returns what to answer.
    func answers(to message: WebSocketMessage, from driver: DriverID, as caller: Caller) async -> [String] {
        guard case .text(let text) = message else {
            return [
                ChannelAnswer.error(
                    id: nil,
                    APIError(.badRequest, code: "invalid_message", "send text messages of JSON, one object per line")
                )
            ]
        }
        var utf8 = text
        let lines = utf8.withUTF8 { bytes in
            UnsafeRawBufferPointer(bytes).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map {
                ChannelMessage(line: UnsafeRawBufferPointer(rebasing: $0))
            }
        }
        guard lines.count <= Self.maximumLines else {
            return [
                ChannelAnswer.error(
                    id: nil,
                    APIError(.badRequest, code: "too_many_lines", "a message holds at most \(Self.maximumLines) lines")
                )
            ]
        }
        var answers: [String] = []
        for line in lines {
            if let answer = await answer(line, from: driver, as: caller) { answers.append(answer) }
        }
        return answers
    }

    private func answer(_ message: ChannelMessage, from driver: DriverID, as caller: Caller) async -> String? {
        do {
            let request = try message.request.get()
            let action: RateLimitedAction = if case .location = request { .locationReport } else { .request }
            if let refusal = limiter.admit(action, for: caller) { throw refusal }
            switch request {
            case .location(let report):
                let outcome = try reports.apply(report, from: driver)
                return message.id.map { ChannelAnswer.ack(id: $0, outcome: outcome) }
            case .status(let raw):
                let changed = try await statuses.setStatus(driver, to: DriverStatus(settable: raw))
                return message.id.map { ChannelAnswer.ack(id: $0, driver: changed) }
            case .act(let action, let ride):
                let changed = try await rides.perform(action, on: ride, by: driver)
                return message.id.map { ChannelAnswer.ack(id: $0, ride: changed) }
            case .cancel(let ride):
                let changed = try await rides.cancel(ride, byDriver: driver)
                return message.id.map { ChannelAnswer.ack(id: $0, ride: changed) }
            }
        } catch {
            return ChannelAnswer.error(id: message.id, APIError(from: error, method: .get, path: Self.path))
        }
    }
}

extension DriverStatus {
    /// A status a driver may set, from its name.
    /// - Throws: `invalid_status` for anything but `available` and `offline`.
    init(settable raw: String) throws(DispatchError) {
        guard let status = DriverStatus(rawValue: raw), DriverStatus.settable.contains(status) else {
            throw DispatchError(
                .invalidStatus,
                "status must be one of \(DriverStatus.settable.map(\.rawValue).joined(separator: ", ")), "
                    + "got \"\(raw.prefix(64))\""
            )
        }
        self = status
    }
}
