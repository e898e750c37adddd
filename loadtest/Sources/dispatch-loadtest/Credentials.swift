import Foundation
import JWTKit
import Synchronization

/// Who a simulated app's request acts as.
enum Subject: Hashable, Sendable {
    case rider(String)
    case driver(String)
    /// The load test's own reads (the final consistency check), as an operator.
    case ops

    var role: String {
        switch self {
        case .rider: "rider"
        case .driver: "driver"
        case .ops: "ops"
        }
    }

    var id: String {
        switch self {
        case .rider(let id), .driver(let id): id
        case .ops: "dispatch-loadtest"
        }
    }
}

/// The bearer tokens of the simulated riders and drivers, minted with jwt-kit from the service's HS256
/// secret (`--auth-secret`, `AUTH_SECRET` or `AUTH_SECRET_FILE`, as the server reads it), so that every
/// scenario runs with authentication on and each app acts only as itself. Without a secret no token is
/// sent (a server run with `AUTH=disabled`).
///
/// Tokens are minted once per subject and kept for the run (they live `lifetime`, longer than any run);
/// the fleet's are minted before the run starts, so the synchronous paths (the pipelined reports and
/// polls) find theirs ready.
final class Credentials: Sendable {
    private let keys: JWTKeyCollection?
    private let minted = Mutex<[Subject: String]>([:])
    private let cohorts = Mutex<[String: String]>([:])
    /// How long each token is valid.
    let lifetime: TimeInterval

    /// No tokens.
    static let none = Credentials(keys: nil, lifetime: 0)

    private init(keys: JWTKeyCollection?, lifetime: TimeInterval) {
        self.keys = keys
        self.lifetime = lifetime
    }

    /// Credentials from a secret, or none without one.
    /// - Parameter lifetime: How long tokens are valid (by default longer than any run).
    /// - Throws: When the secret is shorter than the server accepts.
    static func make(secret: String?, lifetime: TimeInterval = 6 * 3_600) async throws -> Credentials {
        guard let secret, !secret.isEmpty else { return .none }
        guard secret.utf8.count >= 32 else { throw CredentialsError("the auth secret must hold at least 32 bytes") }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return Credentials(keys: keys, lifetime: lifetime)
    }

    /// The secret the server would read from this environment, if any.
    static func secret(option: String?, environment: [String: String]) throws -> String? {
        if let option, !option.isEmpty { return option }
        if let secret = environment["AUTH_SECRET"], !secret.isEmpty { return secret }
        guard let path = environment["AUTH_SECRET_FILE"], !path.isEmpty else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CredentialsError("AUTH_SECRET_FILE names a file that cannot be read: \(path)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var isEnabled: Bool { keys != nil }

    /// The `Authorization` header's value for a subject, minting its token the first time.
    func authorization(_ subject: Subject) async -> String? {
        guard let keys else { return nil }
        if let token = cached(subject) { return token }
        let now = Date()
        let cohort: String? =
            if case .driver(let id) = subject { cohorts.withLock { $0[id] } } else { nil }
        let claims = LoadTestClaims(
            sub: SubjectClaim(value: subject.id),
            role: subject.role,
            exp: ExpirationClaim(value: now.addingTimeInterval(lifetime)),
            iat: IssuedAtClaim(value: now),
            cohort: cohort
        )
        // HS256 signing of our own claims cannot fail; a failure would show as 401s in the run.
        guard let token = try? await keys.sign(claims) else { return nil }
        let header = "Bearer \(token)"
        minted.withLock { $0[subject] = header }
        return header
    }

    /// A token minted before, for the paths that cannot wait (nil when none was).
    func cached(_ subject: Subject) -> String? {
        minted.withLock { $0[subject] }
    }

    /// Names each driver's cohort in the tokens minted from now on (`Scenario.cohorts`).
    func assign(cohorts: [String: String]) {
        self.cohorts.withLock { $0 = cohorts }
    }

    /// Forgets the tokens minted so far (the abuse test mints 100,000 it never uses again).
    func forgetMinted() {
        minted.withLock { $0 = [:] }
    }

    /// Mints the tokens of many subjects ahead of the run.
    func prepare(_ subjects: [Subject]) async {
        guard keys != nil else { return }
        for subject in subjects { _ = await authorization(subject) }
    }
}

/// The claims the service reads (docs/SECURITY.md).
struct LoadTestClaims: JWTPayload {
    var sub: SubjectClaim
    var role: String
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    /// A driver's cohort, for the server's fairness metrics.
    var cohort: String?

    func verify(using algorithm: some JWTAlgorithm) throws {
        try exp.verifyNotExpired()
    }
}

struct CredentialsError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
