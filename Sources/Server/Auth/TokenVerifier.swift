import DispatchCore
import Foundation
import HTTPTypes
import JWTKit
import Logging
import Synchronization

/// Turns a bearer token into the `Caller` it proves, or refuses it with `401 invalid_token`.
///
/// Signatures are checked by jwt-kit (HS256 with the configured secret; ES256 and RS256 with the
/// configured JWKS, chosen by the token's `kid` and `alg`); the claims' times against the service's
/// clock. A verified token is kept in a bounded cache until it expires, so that the location reports
/// of a driver cost one signature check per token, not one per report, and so the edge can recognise
/// a verified token without awaiting anything (`cachedCaller(authorization:)`).
final class TokenVerifier: Sendable {
    private let configuration: AuthConfiguration
    private let keys: Task<JWTKeyCollection, any Error>?
    private let clock: any DispatchClock
    private let cache: VerifiedTokenCache
    private let logger: Logger
    private let unauthenticatedRequests = Atomic<Int>(0)
    /// Told of each token verified (not those served from the cache), with its `cohort` claim: the
    /// drivers' cohorts. (Not kept in the cached `Caller`: a field more in each of 100,000 cached
    /// tokens measurably slowed the abuse test's memory from coming back.)
    private let verified: (@Sendable (Caller, String?) -> Void)?

    /// - Parameters:
    ///   - configuration: The keys and the claims to require.
    ///   - clock: The service's clock, against which `exp`, `nbf` and `iat` are checked.
    ///   - logger: Where `AUTH=disabled` is warned about.
    ///   - verified: Told of each caller whose token was verified (not served from the cache), and
    ///     of the token's `cohort` claim.
    init(
        configuration: AuthConfiguration,
        clock: any DispatchClock,
        logger: Logger,
        verified: (@Sendable (Caller, String?) -> Void)? = nil
    ) {
        self.verified = verified
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        cache = VerifiedTokenCache(capacity: configuration.cachedTokens)
        keys = configuration.disabled ? nil : Task { try await Self.keyCollection(configuration) }
    }

    /// Whether every request acts as `Caller.unauthenticated` (`AUTH=disabled`).
    var isDisabled: Bool { configuration.disabled }

    /// The key collection a configuration describes.
    /// - Throws: When the JWKS holds a key jwt-kit cannot use.
    static func keyCollection(_ configuration: AuthConfiguration) async throws -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        if let secret = configuration.secret {
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        }
        if let jwks = configuration.jwks {
            try await keys.add(jwksJSON: jwks)
        }
        return keys
    }

    /// The caller a request's `Authorization` header proves.
    /// - Parameter authorization: The header's value, if the request had one.
    /// - Throws: `401 missing_token` or `401 invalid_token`.
    func caller(authorization: String?) async throws(APIError) -> Caller {
        if configuration.disabled { return unauthenticated() }
        guard let token = Self.bearerToken(authorization) else { throw .missingToken }
        return try await verify(token)
    }

    /// The caller of a token verified before and still valid, without awaiting anything; nil when the
    /// token is not in the cache (or auth is disabled: the edge then leaves the request to the router).
    func cachedCaller(authorization: String?) -> Caller? {
        guard !configuration.disabled, let token = Self.bearerToken(authorization),
            let caller = cache.caller(for: token), caller.isValid(at: clock.now())
        else { return nil }
        return caller
    }

    /// How long a caller's token stays valid by the service's clock.
    func remainingValidity(of caller: Caller) -> Duration {
        let seconds = max(0, caller.expiresAt.timeIntervalSince(clock.now()))
        return .milliseconds(Int64((min(seconds, 86_400 * 365) * 1_000).rounded(.up)))
    }

    /// Verifies one token.
    /// - Throws: `401 invalid_token`, saying what is wrong with it.
    func verify(_ token: String) async throws(APIError) -> Caller {
        let now = clock.now()
        if let caller = cache.caller(for: token) {
            if caller.isValid(at: now) { return caller }
            cache.remove(token)
            throw now >= caller.expiresAt
                ? .invalidToken("the token has expired") : .invalidToken("the token is not valid yet")
        }
        guard let keys else { return unauthenticated() }
        let claims: AccessClaims
        do {
            claims = try await keys.value.verify(token, as: AccessClaims.self)
        } catch {
            throw .invalidToken("the token is malformed, or not signed by a key this service trusts")
        }
        let caller = try caller(from: claims, now: now)
        cache.insert(token, caller)
        verified?(caller, claims.cohort)
        return caller
    }

    /// Forgets verified tokens that have expired (the housekeeping service calls it).
    /// - Returns: How many were forgotten.
    @discardableResult
    func sweepExpired() -> Int {
        cache.sweep(now: clock.now())
    }

    /// Checks the claims jwt-kit does not: role, subject, issuer, audience and times.
    private func caller(from claims: AccessClaims, now: Date) throws(APIError) -> Caller {
        guard let role = Caller.Role(rawValue: claims.role) else {
            throw .invalidToken("the token's role must be one of rider, driver, ops")
        }
        guard DriverID.isValid(claims.sub.value) else {
            throw .invalidToken("the token's sub must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
        }
        if let issuer = configuration.issuer, claims.iss?.value != issuer {
            throw .invalidToken("the token's issuer is not the one this service trusts")
        }
        if let audience = configuration.audience, !(claims.aud?.value.contains(audience) ?? false) {
            throw .invalidToken("the token is not meant for this service (aud)")
        }
        guard now < claims.exp.value else { throw .invalidToken("the token has expired") }
        let skew = TimeInterval(configuration.clockSkew.components.seconds)
        if let issued = claims.iat?.value, issued > now.addingTimeInterval(skew) {
            throw .invalidToken("the token is not valid yet (issued in the future)")
        }
        let notBefore = claims.nbf.map { $0.value.addingTimeInterval(-skew) }
        if let notBefore, now < notBefore { throw .invalidToken("the token is not valid yet") }
        if let cohort = claims.cohort, !Caller.isValidCohort(cohort) {
            throw .invalidToken("the token's cohort must be 1-32 characters of a-z, 0-9, '_' or '-'")
        }
        return Caller(subject: claims.sub.value, role: role, expiresAt: claims.exp.value, notBefore: notBefore)
    }

    private func unauthenticated() -> Caller {
        let count = unauthenticatedRequests.wrappingAdd(1, ordering: .relaxed).newValue
        if count % 100 == 1 {
            logger.warning("AUTH=disabled: requests are not authenticated; every caller acts as an operator")
        }
        return .unauthenticated
    }

    /// The token of `Bearer <token>` (the scheme is case-insensitive, RFC 9110 §11.1).
    static func bearerToken(_ authorization: String?) -> String? {
        // On every location report: bytes, not Foundation's trimming (measured: a few µs a report).
        guard let authorization else { return nil }
        let utf8 = authorization.utf8
        let scheme = "bearer ".utf8
        guard utf8.count > scheme.count,
            zip(utf8, scheme).allSatisfy({ byte, expected in
                byte == expected || (expected >= UInt8(ascii: "a") && byte | 0x20 == expected)
            })
        else { return nil }
        var start = utf8.index(utf8.startIndex, offsetBy: scheme.count)
        var end = utf8.endIndex
        while start < end, utf8[start] == UInt8(ascii: " ") || utf8[start] == UInt8(ascii: "\t") {
            start = utf8.index(after: start)
        }
        while end > start {
            let last = utf8[utf8.index(before: end)]
            guard last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") else { break }
            end = utf8.index(before: end)
        }
        guard start < end else { return nil }
        return String(authorization[start..<end])
    }
}

extension APIError {
    /// `401`: no bearer token.
    static let missingToken = APIError(
        .unauthorized,
        code: "missing_token",
        "this route needs Authorization: Bearer <token>"
    )

    /// `401`: a bearer token that does not prove anyone.
    static func invalidToken(_ message: String) -> APIError {
        APIError(.unauthorized, code: "invalid_token", message)
    }

    /// `403`: a valid token that may not do this.
    static func forbidden(_ message: String) -> APIError {
        APIError(.forbidden, code: "forbidden", message)
    }
}
