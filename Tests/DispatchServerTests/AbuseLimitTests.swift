import DispatchCore
import DispatchTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import DispatchServer

@Suite("Per-subject rate limits, by the manual clock")
struct RateLimiterTests {
    private let driver = Caller(subject: "d1", role: .driver, expiresAt: .distantFuture)
    private let rider = Caller(subject: "r1", role: .rider, expiresAt: .distantFuture)

    @Test("location reports: a burst of 10, then 2 a second; the refusal says when to retry")
    func locationReports() {
        let clock = ManualClock(start: testEpoch)
        let limiter = RateLimiter(policy: RateLimitPolicy(), clock: clock)
        for _ in 0..<10 { #expect(limiter.admit(.locationReport, for: driver) == nil) }
        let refused = limiter.admit(.locationReport, for: driver)
        #expect(refused?.status == .tooManyRequests)
        #expect(refused?.code == "rate_limited")
        #expect(refused?.retryAfterSeconds == 1)
        clock.advance(by: 0.5)
        #expect(limiter.admit(.locationReport, for: driver) == nil)
        #expect(limiter.admit(.locationReport, for: driver) != nil)
        // Sustained at the rate, never refused.
        for _ in 0..<20 {
            clock.advance(by: 0.5)
            #expect(limiter.admit(.locationReport, for: driver) == nil)
        }
    }

    @Test("ride requests: 3 at once, then one every 10 s")
    func rideRequests() {
        let clock = ManualClock(start: testEpoch)
        let limiter = RateLimiter(policy: RateLimitPolicy(), clock: clock)
        for _ in 0..<3 { #expect(limiter.admit(.rideRequest, for: rider) == nil) }
        #expect(limiter.admit(.rideRequest, for: rider)?.retryAfterSeconds == 10)
        clock.advance(by: 9)
        #expect(limiter.admit(.rideRequest, for: rider)?.retryAfterSeconds == 1)
        clock.advance(by: 1)
        #expect(limiter.admit(.rideRequest, for: rider) == nil)
    }

    @Test("buckets are per subject and per action; operators are not limited")
    func separateBuckets() {
        let limiter = RateLimiter(policy: RateLimitPolicy(), clock: ManualClock(start: testEpoch))
        for _ in 0..<3 { _ = limiter.admit(.rideRequest, for: rider) }
        #expect(limiter.admit(.rideRequest, for: rider) != nil)
        #expect(limiter.admit(.request, for: rider) == nil)
        #expect(limiter.admit(.rideRequest, for: Caller(subject: "r2", role: .rider, expiresAt: .distantFuture)) == nil)
        let ops = Caller(subject: "alice", role: .ops, expiresAt: .distantFuture)
        for _ in 0..<1_000 { #expect(limiter.admit(.request, for: ops) == nil) }
    }

    @Test("memory is bounded whatever the number of subjects")
    func boundedMemory() {
        var policy = RateLimitPolicy()
        policy.maximumSubjects = 160
        let limiter = RateLimiter(policy: policy, clock: ManualClock(start: testEpoch))
        for index in 0..<20_000 {
            let caller = Caller(subject: "d-\(index)", role: .driver, expiresAt: .distantFuture)
            #expect(limiter.admit(.locationReport, for: caller) == nil)
        }
        #expect(limiter.rememberedBuckets <= 160)
        #expect(limiter.rememberedBuckets >= 16)
    }
}

@Suite("Abuse limits over HTTP")
struct AbuseLimitTests {
    private func limited(location: RateLimit? = nil, rides: RateLimit? = nil) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.rateLimits = .unlimitedForTests
        if let location { configuration.rateLimits.locationReports = location }
        if let rides { configuration.rateLimits.rideRequests = rides }
        return configuration
    }

    @Test(
        "a driver over its report rate gets 429 with Retry-After, and the report changes nothing",
        arguments: ReportPath.allCases
    )
    func reportRate(path: ReportPath) async throws {
        let clock = ManualClock(start: testEpoch)
        let configuration = limited(location: RateLimit(perSecond: 1, burst: 2))
        try await makeTestApplication(configuration: configuration, clock: clock).test(path.setup) { client in
            try await path.prepare(client)
            for _ in 0..<2 { try await client.placeDriver("d1", metersNorth: 100) }
            let refused = try await client.send(
                .put,
                "/v1/drivers/d1/location",
                json: #"{"lat": 37.6, "lng": 127.0}"#
            )
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "rate_limited")
            #expect(refused.headers[.retryAfter] == "1")
            #expect(try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self).location.lat < 37.6)
            // Another driver has its own bucket; time refills this one.
            try await client.placeDriver("d2")
            clock.advance(by: 1)
            let later = try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.6, "lng": 127.0}"#)
            #expect(later.status == .noContent)
        }
    }

    @Test("a rider over its ride-request rate gets 429 and no ride is created")
    func rideRate() async throws {
        let configuration = limited(rides: RateLimit(perSecond: 0.1, burst: 1))
        try await makeTestApplication(configuration: configuration).test(.router) { client in
            let first = try await client.send(.post, "/v1/rides", json: rideBody)
            #expect(first.status == .created)
            let cancelled = try await client.send(
                .post,
                "/v1/rides/ride-1/cancel",
                json: "{}",
                caller: .rider("rider-1")
            )
            #expect(cancelled.status == .ok)
            let second = try await client.send(.post, "/v1/rides", json: rideBody)
            #expect(second.status == .tooManyRequests)
            #expect(second.headers[.retryAfter] == "10")
            #expect(try await client.send(.get, "/v1/rides/ride-2", caller: .ops("alice")).status == .notFound)
        }
    }
}

@Suite("Stream caps, capacity ceilings and forgetting, over HTTP")
struct CapacityTests {
    @Test("a third stream of the same caller closes its oldest; another caller's is not touched")
    func streamsPerSubject() async throws {
        let (app, parts) = makeTestService()
        try await app.test(.router) { client in
            try await client.placeDriver("d1")
            try await client.placeDriver("d2")
            async let first = client.send(.get, "/v1/drivers/d1/events")
            try await waitForSubscribers(parts.hub, count: 1)
            async let second = client.send(.get, "/v1/drivers/d1/events")
            async let other = client.send(.get, "/v1/drivers/d2/events")
            try await waitForSubscribers(parts.hub, count: 3)
            async let third = client.send(.get, "/v1/drivers/d1/events")
            // The first ends (its response complete) as the third opens; three stay open.
            #expect(try await first.status == .ok)
            for _ in 0..<500 where parts.streams.openCount != 3 { try await Task.sleep(for: .milliseconds(2)) }
            #expect(parts.streams.openCount == 3)
            try await waitForSubscribers(parts.hub, count: 3)
            parts.hub.close()
            let rest = try await [second, other, third]
            #expect(rest.allSatisfy { $0.status == .ok })
            for _ in 0..<500 where parts.streams.openCount != 0 { try await Task.sleep(for: .milliseconds(2)) }
            #expect(parts.streams.openCount == 0)
        }
    }

    @Test("past MAX_STREAMS a new stream is 503 capacity_exhausted with Retry-After")
    func streamCeiling() async throws {
        var configuration = ServerConfiguration()
        configuration.maximumStreams = 1
        let (app, parts) = makeTestService(configuration: configuration)
        try await app.test(.router) { client in
            try await client.placeDriver("d1")
            try await client.placeDriver("d2")
            async let open = client.send(.get, "/v1/drivers/d1/events")
            try await waitForSubscribers(parts.hub, count: 1)
            let refused = try await client.send(.get, "/v1/drivers/d2/events")
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.errorCode == "capacity_exhausted")
            #expect(refused.headers[.retryAfter] == "30")
            parts.hub.close()
            #expect(try await open.status == .ok)
        }
    }

    @Test(
        "past MAX_DRIVERS a new driver's report is 503 capacity_exhausted; known drivers still report",
        arguments: ReportPath.allCases
    )
    func driverCeiling(path: ReportPath) async throws {
        var configuration = ServerConfiguration()
        configuration.dispatch.maximumDrivers = 1
        try await makeTestApplication(configuration: configuration).test(path.setup) { client in
            try await path.prepare(client)
            try await client.placeDriver("d1")
            let refused = try await client.send(.put, "/v1/drivers/d2/location", json: #"{"lat": 37.5, "lng": 127.0}"#)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.errorCode == "capacity_exhausted")
            let known = try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5, "lng": 127.0}"#)
            #expect(known.status == .noContent)
            #expect(try await client.send(.get, "/v1/drivers/d2", caller: .ops("alice")).status == .notFound)
        }
    }

    @Test("a driver silent for DRIVER_FORGET_SECONDS is forgotten: 404, out of the counts, new when it reports")
    func forgetting() async throws {
        let clock = ManualClock(start: testEpoch)
        var configuration = ServerConfiguration()
        configuration.dispatch.driverForgetAfter = .seconds(60)
        let (app, parts) = makeTestService(configuration: configuration, clock: clock)
        try await app.test(.router) { client in
            try await client.placeDriver("d1")
            clock.advance(by: 59)
            #expect(parts.dispatcher.snapshot().driversKnown == 1)
            clock.advance(by: 1)
            #expect(parts.dispatcher.snapshot().driversKnown == 0)
            #expect(try await client.send(.get, "/v1/drivers/d1").status == .notFound)
            try await client.placeDriver("d1")
            #expect(try await client.send(.get, "/v1/drivers/d1").json(DriverJSON.self).status == "available")
        }
    }

    @Test("idempotency keys are each rider's own: two riders may use the same key")
    func idempotencyKeysPerRider() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.placeDriver("d1")
            try await client.placeDriver("d2", metersNorth: 300)
            let headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "same-key"]
            let first = try await client.send(.post, "/v1/rides", headers: headers, json: rideBody)
            let other = rideBody.replacingOccurrences(of: "rider-1", with: "rider-2")
            let second = try await client.send(.post, "/v1/rides", headers: headers, json: other)
            #expect(first.status == .created)
            #expect(second.status == .created)
            #expect(try first.json(RideJSON.self).id != second.json(RideJSON.self).id)
            // The retry of each returns that rider's own ride.
            let retry = try await client.send(.post, "/v1/rides", headers: headers, json: other)
            #expect(retry.status == .ok)
            #expect(try retry.json(RideJSON.self).id == second.json(RideJSON.self).id)
        }
    }
}

@Suite("Reading the bearer token")
struct BearerTokenTests {
    @Test(
        "the scheme in any case, spaces around the token; anything else is no token",
        arguments: [
            ("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer   abc  ", "abc"), ("BEARER\tabc", nil),
            ("BeArEr abc", "abc"), ("Basic abc", nil), ("Bearer ", nil), ("Bearer    ", nil), ("Bearerabc", nil),
            ("", nil), ("Bearer\u{0}abc", nil),
        ] as [(String, String?)]
    )
    func parse(header: String, token: String?) {
        #expect(TokenVerifier.bearerToken(header) == token)
    }
}
