import DispatchCore
import DispatchTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWSTesting
import JWTKit
import NIOCore
import Testing
import WSCore

@testable import DispatchServer

/// A token signed with `testAuthSecret` with these claims, as JSON; for claims `TokenCommand` never
/// writes (a wrong role, `nbf`, `iss`).
private func signedToken(_ claims: AccessClaims, secret: String = testAuthSecret) async throws -> String {
    let keys = JWTKeyCollection()
    await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    return "Bearer " + (try await keys.sign(claims))
}

private func claims(
    _ subject: String,
    role: String = "rider",
    expires: Date = testEpoch.addingTimeInterval(3_600),
    notBefore: Date? = nil,
    issuer: String? = nil,
    audience: String? = nil
) -> AccessClaims {
    AccessClaims(
        sub: SubjectClaim(value: subject),
        role: role,
        exp: ExpirationClaim(value: expires),
        nbf: notBefore.map { NotBeforeClaim(value: $0) },
        iat: IssuedAtClaim(value: testEpoch),
        iss: issuer.map { IssuerClaim(value: $0) },
        aud: audience.map { AudienceClaim(value: [$0]) }
    )
}

private let tokenRideBody =
    #"{"pickup": {"lat": 37.5665, "lng": 126.978}, "dropoff": {"lat": 37.4979, "lng": 127.0276}}"#

@Suite("Authentication: every /v1 route needs a valid bearer token")
struct AuthenticationTests {
    @Test("no token is 401 missing_token with WWW-Authenticate: Bearer; the probes need none")
    func missingToken() async throws {
        try await makeTestApplication().test(.router) { client in
            for (method, path) in [
                (HTTPRequest.Method.get, "/v1/drivers/nearby?lat=37.5&lng=127"), (.post, "/v1/rides"),
                (.get, "/v1/rides/ride-1"), (.put, "/v1/drivers/d1/location"), (.get, "/v1/riders/r1/rides"),
                (.get, "/v1/no-such-route"),
            ] {
                let response = try await client.send(method, path, json: "{}", caller: .nobody)
                #expect(response.status == .unauthorized, "\(method) \(path)")
                #expect(response.errorCode == "missing_token")
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
            do {
                let status = try await client.send(.get, "/healthz", caller: .nobody).status
                #expect(status == .ok)
            }
            do {
                let status = try await client.send(.get, "/readyz", caller: .nobody).status
                #expect(status == .ok)
            }
        }
    }

    @Test("a token that proves nothing is 401 invalid_token, and changes nothing")
    func invalidTokens() async throws {
        let forged = try await signedToken(claims("r1"), secret: String(repeating: "x", count: 40))
        let unsigned =
            "Bearer "
            + [#"{"alg":"none","typ":"JWT"}"#, #"{"sub":"r1","role":"rider","exp":1900000000}"#]
            .map { Data($0.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "") }
            .joined(separator: ".") + "."
        let badRole = try await signedToken(claims("r1", role: "admin"))
        let badSubject = try await signedToken(claims("not a valid id"))
        let (app, parts) = makeTestService()
        try await app.test(.router) { client in
            for header in ["Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", forged, unsigned, badRole, badSubject] {
                let response = try await client.send(.post, "/v1/rides", json: tokenRideBody, caller: .header(header))
                #expect(response.status == .unauthorized, "\(header)")
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                #expect(response.errorCode == "missing_token" || response.errorCode == "invalid_token")
            }
            #expect(parts.dispatcher.rides { _ in true }.isEmpty)
        }
    }

    @Test("exp and nbf are checked against the service's clock")
    func tokenTimes() async throws {
        let clock = ManualClock(start: testEpoch)
        let expiring = try await signedToken(claims("r1", expires: testEpoch.addingTimeInterval(60)))
        let later = try await signedToken(claims("r2", notBefore: testEpoch.addingTimeInterval(600)))
        try await makeTestApplication(clock: clock).test(.router) { client in
            do {
                let status = try await client.send(.get, "/v1/riders/r1/rides", caller: .header(expiring)).status
                #expect(status == .ok)
            }
            let early = try await client.send(.get, "/v1/riders/r2/rides", caller: .header(later))
            #expect(early.status == .unauthorized)
            #expect(early.text.contains("not valid yet"))
            clock.advance(by: 61)
            // Verified once and remembered, an expired token is still refused.
            let expired = try await client.send(.get, "/v1/riders/r1/rides", caller: .header(expiring))
            #expect(expired.status == .unauthorized)
            #expect(expired.text.contains("expired"))
            clock.advance(by: 600)
            do {
                let status = try await client.send(.get, "/v1/riders/r2/rides", caller: .header(later)).status
                #expect(status == .ok)
            }
        }
    }

    @Test("with AUTH_ISSUER and AUTH_AUDIENCE, a token must carry both")
    func issuerAndAudience() async throws {
        var configuration = ServerConfiguration()
        configuration.auth.secret = testAuthSecret
        configuration.auth.issuer = "https://id.example"
        configuration.auth.audience = "dispatch"
        let good = try await signedToken(claims("r1", issuer: "https://id.example", audience: "dispatch"))
        let otherIssuer = try await signedToken(claims("r1", issuer: "https://evil.example", audience: "dispatch"))
        let noAudience = try await signedToken(claims("r1", issuer: "https://id.example"))
        try await makeTestApplication(configuration: configuration).test(.router) { client in
            do {
                let status = try await client.send(.get, "/v1/riders/r1/rides", caller: .header(good)).status
                #expect(status == .ok)
            }
            for header in [otherIssuer, noAudience] {
                do {
                    let status = try await client.send(.get, "/v1/riders/r1/rides", caller: .header(header)).status
                    #expect(status == .unauthorized)
                }
            }
        }
    }

    @Test("ES256 tokens from an identity provider's JWKS are accepted without the service holding a signing key")
    func jwks() async throws {
        let key = ES256PrivateKey()
        let parameters = try #require(key.publicKey.parameters)
        var configuration = ServerConfiguration()
        configuration.auth.jwks =
            #"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"idp-1","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
        let provider = JWTKeyCollection()
        await provider.add(ecdsa: key, kid: "idp-1")
        let token = "Bearer " + (try await provider.sign(claims("r1"), kid: "idp-1"))
        let hs256 = try await signedToken(claims("r1"))
        try await makeTestApplication(configuration: configuration).test(.router) { client in
            do {
                let status = try await client.send(.get, "/v1/riders/r1/rides", caller: .header(token)).status
                #expect(status == .ok)
            }
            // Only the JWKS is trusted here: a token signed with the test secret is not.
            do {
                let status = try await client.send(.get, "/v1/riders/r1/rides", caller: .header(hs256)).status
                #expect(status == .unauthorized)
            }
        }
    }

    @Test("AUTH=disabled serves requests without a token, as an operator")
    func disabled() async throws {
        var configuration = ServerConfiguration()
        configuration.auth.disabled = true
        try await makeTestApplication(configuration: configuration).test(.router) { client in
            let body =
                #"{"riderId": "r1", "pickup": {"lat": 37.5665, "lng": 126.978}, "dropoff": {"lat": 37.4979, "lng": 127.0276}}"#
            do {
                let status = try await client.send(.post, "/v1/rides", json: body, caller: .nobody).status
                #expect(status == .created)
            }
        }
    }
}

@Suite("Roles and subjects: a caller acts only as itself")
struct AccessTests {
    @Test("a valid token of the wrong role or subject is 403, and changes nothing")
    func forbidden() async throws {
        let (app, parts) = makeTestService()
        try await app.test(.router) { client in
            try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5666, "lng": 126.978}"#)
            let cases: [(HTTPRequest.Method, String, String?, TestCaller)] = [
                (.put, "/v1/drivers/d1/location", #"{"lat": 37.0, "lng": 127.0}"#, .driver("d2")),
                (.put, "/v1/drivers/d1/location", #"{"lat": 37.0, "lng": 127.0}"#, .rider("d1")),
                (.put, "/v1/drivers/d1/status", #"{"status": "offline"}"#, .driver("d2")),
                (.get, "/v1/drivers/d1/offer", nil, .driver("d2")),
                (.get, "/v1/drivers/d1/events", nil, .driver("d2")),
                (.get, "/v1/drivers/d1/rides", nil, .rider("r1")),
                (.get, "/v1/riders/r1/rides", nil, .rider("r2")),
                (.get, "/v1/drivers/nearby?lat=37.5&lng=127", nil, .driver("d1")),
                (
                    .post, "/v1/rides",
                    #"{"riderId": "r1", "pickup": {"lat": 37.5665, "lng": 126.978}, "dropoff": {"lat": 37.4979, "lng": 127.0276}}"#,
                    .rider("r2")
                ),
                (.post, "/v1/rides", tokenRideBody, .driver("d1")),
            ]
            for (method, path, body, caller) in cases {
                let response = try await client.send(method, path, json: body, caller: caller)
                #expect(response.status == .forbidden, "\(method) \(path) as \(caller)")
                #expect(response.errorCode == "forbidden")
            }
            #expect(parts.dispatcher.driver(try DriverID("d1"))?.location.latitude == 37.5666)
            #expect(parts.dispatcher.driver(try DriverID("d1"))?.status == .available)
            #expect(parts.dispatcher.rides { _ in true }.isEmpty)
        }
    }

    @Test("the token names the actor: a rider's request and a driver's accept need no ID in the body")
    func subjectFromToken() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5666, "lng": 126.978}"#)
            let created = try await client.send(.post, "/v1/rides", json: tokenRideBody, caller: .rider("r1"))
            #expect(created.status == .created)
            let ride = try created.json(RideJSON.self)
            #expect(ride.riderId == "r1")
            let accepted = try await client.send(.post, "/v1/rides/\(ride.id)/accept", caller: .driver("d1"))
            #expect(accepted.status == .ok)
            // An operator acting for someone names them.
            let missing = try await client.send(.post, "/v1/rides", json: tokenRideBody, caller: .ops("op-1"))
            #expect(missing.status == .badRequest)
            #expect(missing.errorCode == "missing_field")
        }
    }

    @Test("an operator may act on any ride, and each act's event names the operator")
    func operatorActsRecorded() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5666, "lng": 126.978}"#)
            let body = tokenRideBody.replacingOccurrences(of: "{\"pickup\"", with: #"{"riderId": "r1", "pickup""#)
            let created = try await client.send(.post, "/v1/rides", json: body, caller: .ops("support-7"))
            #expect(created.status == .created)
            let ride = try created.json(RideJSON.self)
            #expect(ride.riderId == "r1")
            // The driver's own act names no operator; an operator's for the driver does.
            #expect(try await client.send(.post, "/v1/rides/\(ride.id)/accept", caller: .driver("d1")).status == .ok)
            let arrived = try await client.send(
                .post,
                "/v1/rides/\(ride.id)/arrive",
                json: #"{"driverId": "d1"}"#,
                caller: .ops("support-8")
            )
            #expect(arrived.status == .ok)
            let cancelled = try await client.send(
                .post,
                "/v1/rides/\(ride.id)/cancel",
                json: #"{"riderId": "r1"}"#,
                caller: .ops("support-7")
            )
            #expect(cancelled.status == .ok)
            // The rider sees who acted on its ride (the stream ends after the final event).
            let stream = try await client.send(.get, "/v1/rides/\(ride.id)/events", caller: .rider("r1"))
            let events = try parseEvents(stream.text)
            #expect(
                events.map(\.event) == [
                    "ride_requested", "ride_offered", "ride_accepted", "driver_arrived", "ride_cancelled",
                ]
            )
            #expect(events.map(\.data.operatorId) == ["support-7", nil, nil, "support-8", "support-7"])
            #expect(stream.text.components(separatedBy: "\"operatorId\"").count == 4)
        }
    }

    @Test("someone else's ride answers exactly as one that does not exist")
    func notYours() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5666, "lng": 126.978}"#)
            let ride = try await client.send(.post, "/v1/rides", json: tokenRideBody, caller: .rider("r1")).json(
                RideJSON.self
            )
            do {
                // (Its event stream stays open while the ride is: the rider's own stream is tested live.)
                let status = try await client.send(.get, "/v1/rides/\(ride.id)", caller: .rider("r1")).status
                #expect(status == .ok)
            }
            for path in ["/v1/rides/\(ride.id)", "/v1/rides/\(ride.id)/events"] {
                let theirs = try await client.send(.get, path, caller: .rider("r2"))
                let missing = try await client.send(
                    .get,
                    path.replacingOccurrences(of: ride.id, with: "ride-999"),
                    caller: .rider("r2")
                )
                #expect(theirs.status == .notFound)
                #expect(theirs.errorCode == missing.errorCode)
                #expect(theirs.text.replacingOccurrences(of: ride.id, with: "ride-999") == missing.text)
                // A driver the ride was never offered to sees nothing either.
                do {
                    let status = try await client.send(.get, path, caller: .driver("d9")).status
                    #expect(status == .notFound)
                }
            }
            // The driver it is offered to, and an operator, see it.
            do {
                let status = try await client.send(.get, "/v1/rides/\(ride.id)", caller: .driver("d1")).status
                #expect(status == .ok)
            }
            do {
                let status = try await client.send(.get, "/v1/rides/\(ride.id)", caller: .ops("op-1")).status
                #expect(status == .ok)
            }
        }
    }

    @Test("riders see cars without IDs, and only the driver coming for them while it comes")
    func riderSeesItsDriver() async throws {
        try await makeTestApplication().test(.router) { client in
            try await client.send(.put, "/v1/drivers/d1/location", json: #"{"lat": 37.5666, "lng": 126.978}"#)
            try await client.send(.put, "/v1/drivers/d2/location", json: #"{"lat": 37.5700, "lng": 126.978}"#)
            let nearby = try await client.send(.get, "/v1/drivers/nearby?lat=37.5665&lng=126.978", caller: .rider("r1"))
            #expect(nearby.status == .ok)
            #expect(nearby.text.contains("distanceMeters"))
            #expect(!nearby.text.contains("d1") && !nearby.text.contains("d2"))
            do {
                let text = try await client.send(.get, "/v1/drivers/nearby?lat=37.5665&lng=126.978", caller: .ops("op"))
                    .text
                #expect(text.contains("d1"))
            }

            do {

                let status = try await client.send(.get, "/v1/drivers/d1", caller: .rider("r1")).status

                #expect(status == .notFound)

            }
            let ride = try await client.send(.post, "/v1/rides", json: tokenRideBody, caller: .rider("r1")).json(
                RideJSON.self
            )
            // Offered is not yet coming.
            do {
                let status = try await client.send(.get, "/v1/drivers/d1", caller: .rider("r1")).status
                #expect(status == .notFound)
            }
            do {
                let status = try await client.send(.post, "/v1/rides/\(ride.id)/accept", caller: .driver("d1")).status
                #expect(status == .ok)
            }
            do {
                let status = try await client.send(.get, "/v1/drivers/d1", caller: .rider("r1")).status
                #expect(status == .ok)
            }
            do {
                let status = try await client.send(.get, "/v1/drivers/d2", caller: .rider("r1")).status
                #expect(status == .notFound)
            }
            do {
                let status = try await client.send(.get, "/v1/drivers/d1", caller: .rider("r2")).status
                #expect(status == .notFound)
            }
            do {
                let status = try await client.send(.post, "/v1/rides/\(ride.id)/arrive", caller: .driver("d1")).status
                #expect(status == .ok)
            }
            do {
                let status = try await client.send(.get, "/v1/drivers/d1", caller: .rider("r1")).status
                #expect(status == .ok)
            }
            do {
                let status = try await client.send(.post, "/v1/rides/\(ride.id)/start", caller: .driver("d1")).status
                #expect(status == .ok)
            }
            do {
                let status = try await client.send(.get, "/v1/drivers/d1", caller: .rider("r1")).status
                #expect(status == .notFound)
            }
        }
    }
}

@Suite("Authentication at the edge and on the driver channel")
struct EdgeAuthenticationTests {
    @Test("reports on a kept-alive connection with someone else's token are refused and create nothing")
    func edgeRefusesOthers() async throws {
        let (app, parts) = makeTestService()
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let mine = try await TestCaller.driver("e1").headerLine()
            let report = #"{"lat": 37.5, "lng": 127.0}"#
            func put(_ driver: String, _ auth: String, close: Bool = false) -> String {
                "PUT /v1/drivers/\(driver)/location HTTP/1.1\r\nHost: t\r\n\(auth)\(close ? "Connection: close\r\n" : "")"
                    + "Content-Type: application/json\r\nContent-Length: \(report.utf8.count)\r\n\r\n\(report)"
            }
            // The first report verifies e1's token; the edge answers the later ones, and must refuse
            // them for anyone but e1.
            let answer = try await RawHTTP.exchange(
                port: port,
                put("e1", mine) + put("e1", mine) + put("e2", mine) + put("e3", "") + put("e1", mine, close: true)
            )
            let statuses = answer.ranges(of: "HTTP/1.1 ").map { answer[$0.upperBound...].prefix(3).description }
            #expect(statuses == ["204", "204", "403", "401", "204"])
            #expect(parts.dispatcher.driver(try DriverID("e1")) != nil)
            #expect(parts.dispatcher.driver(try DriverID("e2")) == nil)
            #expect(parts.dispatcher.driver(try DriverID("e3")) == nil)
        }
    }

    @Test("a channel upgrade needs the driver's own token: 401 without, 403 with another's")
    func channelUpgrade() async throws {
        try await makeTestApplication().test(.live) { client in
            let port = try #require(client.port)
            func upgrade(_ auth: String) -> String {
                "GET /v1/drivers/w1/channel HTTP/1.1\r\nHost: t\r\n\(auth)Connection: Upgrade\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            }
            let none = try await RawHTTP.exchange(port: port, upgrade(""))
            #expect(none.hasPrefix("HTTP/1.1 401"))
            #expect(none.lowercased().contains("www-authenticate: bearer"))
            #expect(none.contains(#""code":"missing_token""#))
            let other = try await RawHTTP.exchange(port: port, upgrade(try await TestCaller.driver("w2").headerLine()))
            #expect(other.hasPrefix("HTTP/1.1 403"))
            let forged = try await RawHTTP.exchange(port: port, upgrade("Authorization: Bearer a.b.c\r\n"))
            #expect(forged.hasPrefix("HTTP/1.1 401"))
            // The driver's own token upgrades: its first verification happens before the upgrade.
            let own = try await RawHTTP.upgradeStatus(
                port: port,
                upgrade(try await TestCaller.driver("w1").headerLine())
            )
            #expect(own.hasPrefix("HTTP/1.1 101"))
        }
    }

    @Test("the channel closes with 1008 when its token expires")
    func channelExpiry() async throws {
        let clock = ManualClock(start: testEpoch)
        try await makeTestApplication(clock: clock).test(.live) { client in
            var configuration = WebSocketClientConfiguration()
            let authorization = try await TestCaller.driver("x1").authorization(ttl: .seconds(1))
            configuration.additionalHeaders[.authorization] = authorization ?? ""

            let close = try await client.ws("/v1/drivers/x1/channel", configuration: configuration) { inbound, _, _ in
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                // Open until the service's clock passes the token's exp.
                _ = try await messages.next()
                clock.advance(by: 2)
                while try await messages.next() != nil {}
            }
            #expect(close?.closeCode == .policyViolation)
            #expect(close?.reason == "token expired")
        }
    }
}

@Suite("Bounded caches and the token command")
struct TokenCacheAndCommandTests {
    @Test("the verified-token cache never holds more than its capacity, and keeps tokens in use")
    func cacheBound() {
        let cache = VerifiedTokenCache(capacity: 100)
        let caller = Caller(subject: "d1", role: .driver, expiresAt: testEpoch)
        for index in 0..<10_000 {
            cache.insert("token-\(index)", caller)
            _ = cache.caller(for: "kept")
            if index == 0 { cache.insert("kept", caller) }
            #expect(cache.count <= 100)
        }
        #expect(cache.caller(for: "kept") == caller)
        #expect(cache.caller(for: "token-0") == nil)
    }

    @Test("token --ttl takes seconds, minutes, hours and days up to a year")
    func lifetimes() throws {
        #expect(try TokenCommand.parseLifetime("90") == .seconds(90))
        #expect(try TokenCommand.parseLifetime("30m") == .seconds(1_800))
        #expect(try TokenCommand.parseLifetime("1h") == .seconds(3_600))
        #expect(try TokenCommand.parseLifetime("7d") == .seconds(604_800))
        for bad in ["", "0", "-5m", "1w", "400d", "h"] {
            #expect(throws: ConfigurationError.self) { try TokenCommand.parseLifetime(bad) }
        }
        let request = try TokenCommand.parse(["--sub", "rider-1", "--role", "rider", "--ttl", "2h"])
        #expect(request == .init(subject: "rider-1", role: .rider, lifetime: .seconds(7_200)))
        #expect(throws: ConfigurationError.self) { try TokenCommand.parse(["--sub", "rider-1", "--role", "admin"]) }
        #expect(throws: ConfigurationError.self) { try TokenCommand.parse(["--role", "rider"]) }
    }

    @Test("a token the command signs is one the service accepts, as that subject and role")
    func commandTokenVerifies() async throws {
        let token = try await TokenCommand.sign(
            .init(subject: "d7", role: .driver, lifetime: .seconds(60)),
            secret: testAuthSecret,
            issuer: nil,
            audience: nil,
            now: testEpoch
        )
        var configuration = AuthConfiguration()
        configuration.secret = testAuthSecret
        let verifier = TokenVerifier(
            configuration: configuration,
            clock: ManualClock(start: testEpoch),
            logger: .init(label: "test")
        )
        let caller = try await verifier.caller(authorization: "Bearer \(token)")
        #expect(caller.subject == "d7" && caller.role == .driver)
        #expect(verifier.cachedCaller(authorization: "bearer \(token)") == caller)
    }
}
