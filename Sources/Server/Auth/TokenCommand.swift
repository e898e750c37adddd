import DispatchCore
import Foundation
import JWTKit

/// `dispatch-server token --sub rider-1 --role rider [--ttl 1h]`: prints an HS256 token signed with the
/// configured secret (`AUTH_SECRET` or `AUTH_SECRET_FILE`), for development and tests. An identity
/// provider issues production tokens; this service never needs their signing keys.
enum TokenCommand {
    /// What the command was asked for.
    struct Request: Equatable {
        var subject: String
        var role: Caller.Role
        var lifetime: Duration
        var cohort: String? = nil
    }

    static let usage =
        "usage: dispatch-server token --sub ID --role rider|driver|ops [--ttl 1h|30m|90s|3600] [--cohort LABEL]"

    /// Reads `--sub`, `--role` and `--ttl` (default one hour).
    /// - Throws: `ConfigurationError` with what is wrong.
    static func parse(_ arguments: [String]) throws(ConfigurationError) -> Request {
        var values: [String: String] = [:]
        var remaining = arguments[...]
        while let flag = remaining.popFirst() {
            guard ["--sub", "--role", "--ttl", "--cohort"].contains(flag), let value = remaining.popFirst() else {
                throw ConfigurationError(usage)
            }
            values[flag] = value
        }
        guard let subject = values["--sub"], DriverID.isValid(subject) else {
            throw ConfigurationError("--sub must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'\n\(usage)")
        }
        guard let role = values["--role"].flatMap(Caller.Role.init(rawValue:)) else {
            throw ConfigurationError("--role must be rider, driver or ops\n\(usage)")
        }
        let lifetime = try values["--ttl"].map(parseLifetime) ?? .seconds(3_600)
        if let cohort = values["--cohort"], !Caller.isValidCohort(cohort) {
            throw ConfigurationError("--cohort must be 1-32 characters of a-z, 0-9, '_' or '-'\n\(usage)")
        }
        return Request(subject: subject, role: role, lifetime: lifetime, cohort: values["--cohort"])
    }

    /// `90`, `90s`, `30m`, `1h` or `7d`: from one second to a year.
    static func parseLifetime(_ text: String) throws(ConfigurationError) -> Duration {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let scale = units[last] {
            unit = scale
            digits = digits.dropLast()
        }
        guard let count = Int64(digits), count > 0, count * unit <= 366 * 86_400 else {
            throw ConfigurationError("--ttl must be a duration of up to a year, such as 90s, 30m, 1h or 7d")
        }
        return .seconds(count * unit)
    }

    /// Signs the token a request describes.
    static func sign(
        _ request: Request,
        secret: String,
        issuer: String?,
        audience: String?,
        now: Date
    ) async throws
        -> String
    {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let claims = AccessClaims(
            sub: SubjectClaim(value: request.subject),
            role: request.role.rawValue,
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(request.lifetime.components.seconds))),
            iat: IssuedAtClaim(value: now),
            iss: issuer.map { IssuerClaim(value: $0) },
            aud: audience.map { AudienceClaim(value: [$0]) },
            cohort: request.cohort
        )
        return try await keys.sign(claims)
    }

    /// Runs the command: prints the token, or why there is none.
    /// - Returns: The exit status.
    static func run(arguments: [String], environment: [String: String]) async -> Int32 {
        do {
            let request = try parse(arguments)
            let configuration = try ServerConfiguration(arguments: ["dispatch-server"], environment: environment)
            guard let secret = configuration.auth.secret else {
                throw ConfigurationError("token signs with an HS256 secret: set AUTH_SECRET or AUTH_SECRET_FILE")
            }
            let token = try await sign(
                request,
                secret: secret,
                issuer: configuration.auth.issuer,
                audience: configuration.auth.audience,
                now: Date()
            )
            print(token)
            return 0
        } catch {
            FileHandle.standardError.write(Data("dispatch-server token: \(error)\n".utf8))
            return 2
        }
    }
}
