import Foundation

/// How callers prove who they are: bearer tokens (JWT) signed with an HS256 secret or by an identity
/// provider's keys (a JWKS), or nothing at all with `AUTH=disabled`, for local experiments only.
struct AuthConfiguration: Sendable, Equatable {
    /// `AUTH=disabled`: every request acts as an operator. Logged as a warning at start-up and on
    /// every hundredth request; no manifest sets it.
    var disabled = false
    /// The HS256 secret (`AUTH_SECRET`, or the contents of `AUTH_SECRET_FILE`).
    var secret: String?
    /// A JWKS document with ES256 or RS256 public keys (the contents of `AUTH_JWKS_FILE`).
    var jwks: String?
    /// When set, a token's `iss` must equal it (`AUTH_ISSUER`).
    var issuer: String?
    /// When set, a token's `aud` must include it (`AUTH_AUDIENCE`).
    var audience: String?
    /// The most verified tokens kept, so a signature is checked once per token (`AUTH_CACHE_TOKENS`).
    var cachedTokens = 100_000
    /// How far a token's `nbf` and `iat` may lie ahead of the service's clock (the issuer's clock skew).
    var clockSkew = Duration.seconds(30)

    /// Whether tokens can be verified at all: a secret or a JWKS is configured.
    var hasKeys: Bool { secret != nil || jwks != nil }

    /// The shortest HS256 secret accepted: 32 bytes, the hash's own size (RFC 7518 §3.2).
    static let minimumSecretBytes = 32
}
