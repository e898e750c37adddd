import DispatchCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Testing

@testable import DispatchServer

@Suite("Probes, metrics and unknown routes", .serialized)
struct OperationsTests {
    @Test("healthz and readyz answer 200; readyz is 503 once shutdown begins")
    func probes() async throws {
        let readiness = Readiness()
        try await makeTestApplication(readiness: readiness).test(.router) { client in
            #expect(try await client.send(.get, "/healthz").status == .ok)
            #expect(try await client.send(.get, "/readyz").status == .ok)
            readiness.markDraining()
            let draining = try await client.send(.get, "/readyz")
            #expect(draining.status == .serviceUnavailable)
            #expect(draining.errorCode == "draining")
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    @Test("the service as the binary runs it: on shutdown, readyz fails through the delay, then streams end")
    func shutdownPath() async throws {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.shutdownDelay = .seconds(1)
        let readiness = Readiness()
        let (_, parts) = makeTestService(configuration: configuration, readiness: readiness)
        let group = ServiceGroup(configuration: .init(services: [parts.service], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = await parts.apiPort.value()
            let probe = "GET /readyz HTTP/1.1\r\nHost: kubelet\r\nConnection: close\r\n\r\n"
            #expect(try await RawHTTP.exchange(port: port, probe).hasPrefix("HTTP/1.1 200"))
            let stream = parts.hub.subscribe(toDriver: try DriverID("d1"))
            await group.triggerGracefulShutdown()
            // During the delay the listener still answers, and says it is draining.
            var answer = try await RawHTTP.exchange(port: port, probe)
            for _ in 0..<50 where !answer.hasPrefix("HTTP/1.1 503") {
                try await Task.sleep(for: .milliseconds(10))
                answer = try await RawHTTP.exchange(port: port, probe)
            }
            #expect(answer.hasPrefix("HTTP/1.1 503"))
            #expect(answer.contains("draining"))
            // After the delay the streams end (the hub is closed), and the service stops by itself.
            for await _ in stream {}
            #expect(parts.hub.subscriberCount == 0)
            try await tasks.waitForAll()
        }
    }

    @Test("metrics are on their own port, without a token; the API port does not serve them")
    func metricsPort() async throws {
        let (application, parts) = makeTestService()
        try await application.test(.router) { client in
            // The API port: no such route for an operator, and a token is asked for first.
            let api = try await client.send(.get, "/metrics", caller: .ops("prometheus"))
            #expect(api.status == .notFound)
            #expect(api.errorCode == "not_found")
            #expect(try await client.send(.get, "/metrics", caller: .nobody).status == .unauthorized)
            // The metrics port: Prometheus text, and nothing else.
            let (status, body) = try await parts.scrape()
            #expect(status == "HTTP/1.1 200 OK")
            #expect(body.contains("# TYPE dispatch_capacity_used gauge"))
            #expect(try await parts.scrape("/v1/drivers/nearby?lat=37.5&lng=127").status.hasPrefix("HTTP/1.1 404"))
            #expect(try await parts.scrape("/healthz").status.hasPrefix("HTTP/1.1 404"))
        }
    }

    @Test("metrics are Prometheus text with request counts, durations and drivers by status")
    func metrics() async throws {
        let (application, parts) = makeTestService()
        try await application.test(.router) { client in
            try await client.send(.put, "/v1/drivers/m1/location", json: #"{"lat": 37.5, "lng": 127.0}"#)
            try await client.send(.put, "/v1/drivers/m2/location", json: #"{"lat": 37.5, "lng": 127.0}"#)
            try await client.send(.put, "/v1/drivers/m2/status", json: #"{"status": "offline"}"#)
            let (status, text) = try await parts.scrape()
            #expect(status == "HTTP/1.1 200 OK")
            #expect(text.contains(#"dispatch_drivers{status="available"} 1"#))
            #expect(text.contains(#"dispatch_drivers{status="offline"} 1"#))
            #expect(text.contains(#"dispatch_drivers{status="stale"} 0"#))
            #expect(text.contains("# TYPE http_server_requests_total counter"))
            #expect(
                text.contains(
                    #"http_server_requests_total{http_route="/v1/drivers/{driverId}/location",http_request_method="PUT",http_response_status_code="204"}"#
                )
            )
            #expect(text.contains("# TYPE http_server_request_duration_seconds histogram"))
            #expect(text.contains("dispatch_location_updates_total"))
            #expect(text.contains("dispatch_index_memory_bytes"))
            #expect(text.contains("dispatch_rides_searching 0"))
        }
    }

    @Test("the standard process metrics and the build's version are on /metrics")
    func processMetrics() async throws {
        let (application, parts) = makeTestService()
        try await application.test(.router) { _ in
            let (_, text) = try await parts.scrape()
            var values: [String: Double] = [:]
            for line in text.split(separator: "\n") where line.hasPrefix("process_") {
                let fields = line.split(separator: " ")
                if fields.count == 2 { values[String(fields[0])] = Double(fields[1]) }
            }
            #expect(text.contains("# TYPE process_cpu_seconds_total counter"))
            #expect((values["process_cpu_seconds_total"] ?? 0) > 0)
            #expect((values["process_resident_memory_bytes"] ?? 0) > 1_000_000)
            #expect((values["process_open_fds"] ?? 0) >= 3)
            #expect((values["process_max_fds"] ?? 0) >= (values["process_open_fds"] ?? .infinity))
            // Started in the past, and not before this machine's clock could say (2020).
            let started = values["process_start_time_seconds"] ?? 0
            #expect(started > 1_577_836_800 && started <= Date().timeIntervalSince1970 + 1)
            #expect(text.contains(#"dispatch_build_info{version="\#(BuildInfo.version)"} 1"#))
        }
    }

    @Test("dispatch metrics follow the rides: match latency, pickup distance, offers and rides by outcome")
    func dispatchMetrics() async throws {
        let (application, parts) = makeTestService()
        try await application.test(.router) { client in
            try await client.placeDriver("metrics-d1", metersNorth: 400)
            let body = rideBody.replacingOccurrences(of: "rider-1", with: "metrics-rider")
            try await client.send(.post, "/v1/rides", json: body)
            for action in ["accept", "arrive", "start"] {
                try await client.send(.post, "/v1/rides/ride-1/\(action)", json: #"{"driverId": "metrics-d1"}"#)
            }
            let during = try await parts.metricsText()
            #expect(during.contains(#"dispatch_drivers{status="on_trip"} 1"#))
            try await client.send(.post, "/v1/rides/ride-1/complete", json: #"{"driverId": "metrics-d1"}"#)
            let text = try await parts.metricsText()
            #expect(text.contains("# TYPE dispatch_match_latency_seconds histogram"))
            #expect(text.contains("dispatch_match_latency_seconds_count"))
            #expect(text.contains("# TYPE dispatch_pickup_distance_meters histogram"))
            #expect(text.contains(#"dispatch_pickup_distance_meters_bucket{le="500.0"}"#))
            #expect(text.contains(#"dispatch_offers_total{outcome="accepted"}"#))
            #expect(text.contains(#"dispatch_rides_total{final_state="completed"}"#))
            #expect(text.contains(#"dispatch_drivers{status="available"} 1"#))
        }
    }

    @Test("an unknown route is a JSON 404; a known path with another method is 405 with Allow")
    func unknownRoute() async throws {
        try await makeTestApplication().test(.router) { client in
            let response = try await client.send(.get, "/v2/nothing")
            #expect(response.status == .notFound)
            #expect(response.errorCode == "not_found")
            let wrongMethod = try await client.send(.delete, "/v1/drivers/d1")
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.errorCode == "method_not_allowed")
            #expect(wrongMethod.headers[.allow] == "GET")
            let postLocation = try await client.send(.post, "/v1/drivers/d1/location", json: "{}")
            #expect(postLocation.status == .methodNotAllowed)
            #expect(postLocation.headers[.allow] == "PUT")
        }
    }
}
