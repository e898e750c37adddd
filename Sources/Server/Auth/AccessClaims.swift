import JWTKit

/// The claims of the service's bearer tokens: `sub`, `role` and `exp`, with `nbf`, `iat`, `iss` and
/// `aud` honoured when present.
///
/// Times are checked by `TokenVerifier` against the service's clock (so tests can move it), not here:
/// jwt-kit only checks the signature and decodes.
struct AccessClaims: JWTPayload, Equatable {
    var sub: SubjectClaim
    var role: String
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    /// A driver's cohort (fleet, franchise…) for the fairness metrics (`DRIVER_COHORTS`); optional.
    var cohort: String?

    init(
        sub: SubjectClaim,
        role: String,
        exp: ExpirationClaim,
        nbf: NotBeforeClaim? = nil,
        iat: IssuedAtClaim? = nil,
        iss: IssuerClaim? = nil,
        aud: AudienceClaim? = nil,
        cohort: String? = nil
    ) {
        self.sub = sub
        self.role = role
        self.exp = exp
        self.nbf = nbf
        self.iat = iat
        self.iss = iss
        self.aud = aud
        self.cohort = cohort
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
