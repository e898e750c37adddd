import DispatchCore
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import DispatchServer

@Suite("The edge: reports answered on the event loop, answers in order, shedding")
struct EdgeTests {
    @Test("pipelined requests are answered in order, whether the edge or the router answers them")
    func pipelinedOrder() async throws {
        try await makeTestApplication().test(.live) { client in
            let port = try #require(client.port)
            let report = #"{"lat": 37.5, "lng": 127.0}"#
            let bad = #"{"lat": 91, "lng": 127.0}"#
            let last = #"{"lat": 37.6, "lng": 127.0}"#
            let auth = try await TestCaller.driver("p1").headerLine()
            // The token verified once (by the router), so the edge answers the reports below.
            #expect(try await client.send(.get, "/v1/drivers/p1/rides").status == .ok)
            let requests =
                "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                + "PUT /v1/drivers/p1/location HTTP/1.1\r\nHost: t\r\n\(auth)Content-Type: application/json\r\nContent-Length: \(report.utf8.count)\r\n\r\n\(report)"
                + "GET /v1/drivers/p1 HTTP/1.1\r\nHost: t\r\n\(auth)\r\n"
                + "PUT /v1/drivers/p1/location HTTP/1.1\r\nHost: t\r\n\(auth)Content-Type: application/json\r\nContent-Length: \(bad.utf8.count)\r\n\r\n\(bad)"
                + "PUT /v1/drivers/p1/location HTTP/1.1\r\nHost: t\r\n\(auth)Connection: close\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(last.utf8.count)\r\n\r\n\(last)"
            let answer = try await RawHTTP.exchange(port: port, requests)
            let statuses = answer.ranges(of: "HTTP/1.1 ").map { range in
                answer[range.lowerBound...].components(separatedBy: "\r\n").first ?? ""
            }
            #expect(
                statuses == [
                    "HTTP/1.1 200 OK", "HTTP/1.1 204 No Content", "HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request",
                    "HTTP/1.1 204 No Content",
                ]
            )
            // The read after the first report saw it; the one answered last closed the connection.
            #expect(answer.contains(#""location":{"lat":37.5,"lng":127}"#))
            #expect(answer.contains(#""code":"invalid_coordinate""#))
            #expect(answer.lowercased().contains("connection: close"))
            let driver = try await client.send(.get, "/v1/drivers/p1").json(DriverJSON.self)
            #expect(driver.location == .init(lat: 37.6, lng: 127.0))
        }
    }

    @Test("an overloaded service sheds reports first and ride requests next, with 503 and Retry-After")
    func shedding() async throws {
        let signals = Mutex(LoadSignals())
        var configuration = ServerConfiguration()
        configuration.admission.reportLagLimit = .milliseconds(100)
        configuration.admission.requestLagLimit = .milliseconds(250)
        let (app, parts) = makeTestService(configuration: configuration, loadSignals: { signals.withLock { $0 } })
        try await app.test(.live) { client in
            try await client.send(.put, "/v1/drivers/s1/location", json: #"{"lat": 37.5665, "lng": 126.978}"#)
            signals.withLock { $0.schedulingLag = .milliseconds(200) }
            let report = try await client.send(.put, "/v1/drivers/s1/location", json: #"{"lat": 37.0, "lng": 127.0}"#)
            #expect(report.status == .serviceUnavailable)
            #expect(report.errorCode == "overloaded")
            #expect(report.headers[.retryAfter] == "2")
            // Shed means not applied.
            #expect(parts.dispatcher.driver(try DriverID("s1"))?.location.latitude == 37.5665)
            #expect(try await client.send(.get, "/v1/drivers/nearby?lat=37.5&lng=127").status == .serviceUnavailable)
            // A ride request still goes through at this lag, and its driver can accept it.
            let created = try await client.send(.post, "/v1/rides", json: rideBody(rider: "r1"))
            #expect(created.status == .created)
            let ride = try created.json(RideJSON.self)
            signals.withLock { $0.schedulingLag = .seconds(3) }
            #expect(try await client.send(.post, "/v1/rides", json: rideBody(rider: "r2")).errorCode == "overloaded")
            let accepted = try await client.send(.post, "/v1/rides/\(ride.id)/accept", json: #"{"driverId": "s1"}"#)
            #expect(accepted.status == .ok)
            #expect(try await client.send(.get, "/healthz").status == .ok)
            let metrics = try await parts.metricsText()
            #expect(metrics.contains(#"dispatch_requests_shed_total{class="location_report",reason="cpu"} 1"#))
            #expect(metrics.contains(#"dispatch_requests_shed_total{class="ride_request",reason="cpu"} 1"#))
            #expect(metrics.contains(#"dispatch_requests_shed_total{class="ride_progress",reason="cpu"} 0"#))
            // Load gone: reports are taken again.
            signals.withLock { $0.schedulingLag = .zero }
            let again = try await client.send(.put, "/v1/drivers/s1/location", json: #"{"lat": 37.57, "lng": 126.98}"#)
            #expect(again.status == .noContent)
        }
    }

    @Test("a body larger than the limit is 413 at the edge, and the connection serves the next request")
    func tooLarge() async throws {
        try await makeTestApplication().test(.live) { client in
            // The connection's first request goes to the router; the edge answers the ones after it.
            #expect(try await client.send(.get, "/healthz").status == .ok)
            let body = #"{"lat": 37.5, "lng": 126.9, "pad": ""# + String(repeating: "x", count: 20_000) + #""}"#
            let response = try await client.send(.put, "/v1/drivers/big/location", json: body)
            #expect(response.status == .contentTooLarge)
            #expect(response.errorCode == "payload_too_large")
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    @Test("offer polls answered at the edge say what the router says: 400, 404, 204, then the offer")
    func offerPolls() async throws {
        try await makeTestApplication().test(.live) { client in
            let port = try #require(client.port)
            try await client.send(.put, "/v1/drivers/o1/location", json: #"{"lat": 37.5651, "lng": 126.9895}"#)
            let tokens = [
                "o1": try await TestCaller.driver("o1").headerLine(),
                "nobody": try await TestCaller.driver("nobody").headerLine(),
            ]
            func poll(_ driver: String, close: Bool = false) -> String {
                "GET /v1/drivers/\(driver)/offer HTTP/1.1\r\nHost: t\r\n\(tokens[driver] ?? tokens["o1"] ?? "")"
                    + "\(close ? "Connection: close\r\n" : "")\r\n"
            }
            func statuses(_ answer: String) -> [String] {
                answer.ranges(of: "HTTP/1.1 ").map { answer[$0.upperBound...].prefix(3).description }
            }
            // After a first request (the router's), the polls are the edge's.
            let healthz = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
            let before = try await RawHTTP.exchange(
                port: port,
                healthz + poll("o1") + poll("nobody") + poll("bad$id") + poll("o1", close: true)
            )
            #expect(statuses(before) == ["200", "204", "404", "400", "204"])
            #expect(before.contains(#""code":"driver_not_found""#))
            #expect(before.contains(#""code":"invalid_driver_id""#))

            let ride = try await client.send(.post, "/v1/rides", json: rideBody(rider: "o-rider"))
            #expect(ride.status == .created)
            let atEdge = try await RawHTTP.exchange(port: port, healthz + poll("o1", close: true))
            let atRouter = try await RawHTTP.exchange(port: port, poll("o1", close: true))
            #expect(statuses(atEdge) == ["200", "200"])
            #expect(statuses(atRouter) == ["200"])
            func body(_ answer: String) -> String { answer.components(separatedBy: "\r\n\r\n").last ?? "" }
            #expect(body(atEdge).contains(#""pickup":{"lat":37.5651,"lng":126.9895}"#))
            #expect(body(atEdge) == body(atRouter))
        }
    }

    private func rideBody(rider: String) -> String {
        #"{"riderId": "\#(rider)", "pickup": {"lat": 37.5651, "lng": 126.9895}, "dropoff": {"lat": 37.4979, "lng": 127.0276}}"#
    }
}

/// Writes raw bytes to the server and reads until it closes the connection.
enum RawHTTP {
    /// Writes an upgrade request and returns the answer's status line (an upgraded connection stays
    /// open, so this reads only until the end of the status line, then closes).
    static func upgradeStatus(port: Int, _ text: String) async throws -> String {
        try await send(port: port, text) { $0.contains("\r\n") }
    }

    static func exchange(port: Int, _ text: String) async throws -> String {
        try await send(port: port, text) { _ in false }
    }

    /// Writes `text` and reads until the server closes the connection or `isEnough` says so.
    private static func send(port: Int, _ text: String, until isEnough: (String) -> Bool) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: text))
            var received = ""
            for try await chunk in inbound {
                received += String(buffer: chunk)
                if isEnough(received) { break }
            }
            return received
        }
    }
}

@Suite("Connections over MAX_CONNECTIONS are answered 503 at once, not left in the listen queue")
struct ConnectionBudgetTests {
    @Test("past the limit a request gets 503 overloaded with Retry-After and the connection closes; probes pass")
    func overBudget() async throws {
        var configuration = ServerConfiguration()
        configuration.maximumConnections = 16
        let (application, parts) = makeTestService(configuration: configuration)
        try await application.test(.live) { client in
            let port = try #require(client.port)
            // Fill the budget with idle connections, and wait until the server holds them all.
            var held: [any Channel] = []
            for _ in 0..<16 {
                let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                held.append(try await bootstrap.connect(host: "127.0.0.1", port: port).get())
            }
            for _ in 0..<500 where parts.connections.count < 16 { try await Task.sleep(for: .milliseconds(10)) }
            // (The test client may hold one of its own.)
            #expect(parts.connections.count >= 16)

            // Over the limit: a ride request is shed at once, and the answer closes the connection
            // (the exchange reads until the server closes it).
            let shed = try await RawHTTP.exchange(
                port: port,
                "GET /v1/drivers/d1 HTTP/1.1\r\nHost: t\r\n\r\n"
            )
            #expect(shed.hasPrefix("HTTP/1.1 503"))
            #expect(shed.lowercased().contains("retry-after: 2"))
            #expect(shed.lowercased().contains("connection: close"))
            #expect(shed.contains(#""code":"overloaded""#))
            #expect(shed.contains("too many connections"))
            // A driver channel upgrade over the limit is refused the same way, not upgraded.
            let upgrade = try await RawHTTP.exchange(
                port: port,
                "GET /v1/drivers/d1/channel HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            )
            #expect(upgrade.hasPrefix("HTTP/1.1 503"))
            // Probes are still answered, so operators see a crowded service, not a dead one.
            let probe = try await RawHTTP.exchange(port: port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(probe.hasPrefix("HTTP/1.1 200"))

            // Once connections close, new ones are served again, and a client's own copy of the
            // edge's mark does not shed it.
            for channel in held { try await channel.close() }
            for _ in 0..<500 where parts.connections.count >= 16 { try await Task.sleep(for: .milliseconds(10)) }
            let auth = try await TestCaller.driver("d1").headerLine()
            let served = try await RawHTTP.exchange(
                port: port,
                "PUT /v1/drivers/d1/location HTTP/1.1\r\nHost: t\r\n\(auth)Connection: close\r\n"
                    + "\(ConnectionBudget.overBudgetHeader): 1\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
                    + #"{"lat": 37.5, "lng": 127.0}"#
            )
            #expect(served.hasPrefix("HTTP/1.1 204"))
        }
    }
}

@Suite("A standby's connection to its leader")
struct StandbyForwarderTests {
    @Test("it sets TCP_NODELAY at the TCP level, never SO_DEBUG (which an unprivileged pod may not set)")
    func socketOptions() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let listener = try await ServerBootstrap(group: group)
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = try #require(listener.localAddress?.port)
        let peer = try await StandbyForwarder.configure(ClientBootstrap(group: group), connectTimeout: .seconds(1))
            .connect(host: "127.0.0.1", port: port)
            .get()
        #expect(try await peer.getOption(.tcpOption(.tcp_nodelay)).get() != 0)
        let soDebug = ChannelOptions.Types.SocketOption(level: .socket, name: NIOBSDSocket.Option(rawValue: 1))
        #expect(try await peer.getOption(soDebug).get() == 0)
        try await peer.close()
        try await listener.close()
    }
}
