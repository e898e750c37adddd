import DispatchCore
import Foundation
import NIOSSL
import PostgresNIO

/// Where PostgreSQL is: `DATABASE_URL` (`postgres://user:password@host:port/database?sslmode=...`),
/// or the `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_DB`
/// variables (with `POSTGRES_SSLMODE`, `POSTGRES_SSLROOTCERT`). The password is never logged.
struct DatabaseConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// libpq's `sslmode`s, but `allow` and `prefer`: a connection that may fall back to plain text can
    /// be downgraded by anyone on the path, so those are refused.
    enum TLSMode: String, Sendable, CaseIterable {
        /// Plain text (a database on the same host or pod network only).
        case disable
        /// Encrypted; the server's certificate is checked against the root certificate when one is
        /// given (as `verify-ca`), else not at all (as libpq does).
        case require
        /// Encrypted; the certificate must chain to the root certificate (or the system's roots).
        case verifyCA = "verify-ca"
        /// Encrypted; as `verify-ca`, and the certificate must name the host connected to.
        case verifyFull = "verify-full"

        static let accepted = "disable, require, verify-ca or verify-full"

        /// The mode for `text`; `prefer` and `allow` are refused with the reason.
        static func parse(_ text: String, option: String) throws(ConfigurationError) -> TLSMode {
            if text == "prefer" || text == "allow" {
                throw ConfigurationError(
                    "\(option)=\(text) lets anyone on the path downgrade the connection to plain text; use \(accepted)"
                )
            }
            guard let mode = TLSMode(rawValue: text) else {
                throw ConfigurationError("\(option) must be \(accepted), got \"\(text.prefix(40))\"")
            }
            return mode
        }
    }

    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String
    var tls: TLSMode
    /// A PEM file of the root certificate(s) the server's certificate must chain to (a CloudNativePG
    /// cluster's CA); nil: the system's roots.
    var rootCertificate: String?

    init(
        host: String,
        port: Int,
        username: String,
        password: String?,
        database: String,
        tls: TLSMode,
        rootCertificate: String? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.rootCertificate = rootCertificate
    }

    /// Checks that a root certificate file can be read.
    private static func readable(_ path: String?, option: String) throws(ConfigurationError) -> String? {
        guard let path, !path.isEmpty else { return nil }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ConfigurationError("\(option) names \(path), which cannot be read")
        }
        return path
    }

    /// Parses a `postgres://` or `postgresql://` URL.
    /// - Throws: `ConfigurationError` naming what is wrong (never echoing the password).
    init(url text: String) throws(ConfigurationError) {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? "") else {
            throw ConfigurationError("DATABASE_URL must look like postgres://user:password@host:5432/database")
        }
        guard let host = url.host, !host.isEmpty else { throw ConfigurationError("DATABASE_URL has no host") }
        guard let user = url.user, !user.isEmpty else { throw ConfigurationError("DATABASE_URL has no user name") }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        let mode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls = try TLSMode.parse(mode, option: "DATABASE_URL's sslmode")
        self.rootCertificate = try Self.readable(
            url.queryItems?.first { $0.name == "sslrootcert" }?.value,
            option: "DATABASE_URL's sslrootcert"
        )
        self.host = host
        self.port = url.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = url.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.isEmpty ? self.username : database
        self.tls = tls
    }

    /// Reads the `POSTGRES_*` variables; nil when `POSTGRES_HOST` is not set.
    init?(environment: [String: String]) throws(ConfigurationError) {
        guard let host = environment["POSTGRES_HOST"], !host.isEmpty else { return nil }
        let portText = environment["POSTGRES_PORT"] ?? "5432"
        guard let port = Int(portText), (1...65_535).contains(port) else {
            throw ConfigurationError("POSTGRES_PORT must be an integer in 1...65535, got \"\(portText)\"")
        }
        let tls = try TLSMode.parse(environment["POSTGRES_SSLMODE"] ?? "disable", option: "POSTGRES_SSLMODE")
        self.rootCertificate = try Self.readable(environment["POSTGRES_SSLROOTCERT"], option: "POSTGRES_SSLROOTCERT")
        self.host = host
        self.port = port
        self.username = environment["POSTGRES_USER"] ?? "postgres"
        self.password = environment["POSTGRES_PASSWORD"]
        self.database = environment["POSTGRES_DB"] ?? self.username
        self.tls = tls
    }

    /// The writer's connections: the group commit uses one at a time (one more for a reconnect), so
    /// reads, however many or slow, never make a commit wait for a connection.
    static let writerConnections = 2
    /// The reads' connections (trip history, rides no longer in memory, replays).
    static let readConnections = 8
    /// The longest a read's statement may run before PostgreSQL cancels it.
    static let readStatementTimeout = Duration.seconds(2)

    /// The PostgresNIO client configuration of the writer (group commit, migrations, recovery).
    var client: PostgresClient.Configuration {
        var configuration = base
        configuration.options.maximumConnections = Self.writerConnections
        return configuration
    }

    /// The PostgresNIO client configuration of the reads: their own pool, with a statement timeout.
    var readClient: PostgresClient.Configuration {
        var configuration = base
        configuration.options.maximumConnections = Self.readConnections
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "\(Self.readStatementTimeout.components.seconds * 1000)")
        ]
        return configuration
    }

    /// The writer's pool, with PostgreSQL ending a transaction left idle longer than a quarter of a
    /// lease: a leader paused or cut off mid-transaction must not hold the leadership row's shared lock,
    /// and with it the takeover, for long; a new leader's epoch bump waits up to half a lease for it
    /// (`lock_timeout` of `leadershipConnection`). (The writer's own transactions are never idle for
    /// more than a few milliseconds between their statements.)
    func writerClient(lease: Duration) -> PostgresClient.Configuration {
        var configuration = client
        configuration.options.additionalStartupParameters = [
            ("idle_in_transaction_session_timeout", "\(Int64(lease.timeInterval * 250))")
        ]
        return configuration
    }

    /// The election's own session (`LeaderElection`), which holds the region's advisory lock. PostgreSQL
    /// ends it, releasing the lock, once it is idle longer than `lease` (a paused or partitioned
    /// leader stops renewing) or its peer stops acknowledging for that long; its statements give up
    /// after half of it.
    func leadershipConnection(lease: Duration) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            if let verified = tlsConfiguration { .require(try NIOSSLContext(configuration: verified)) } else {
                .disable
            }
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tls
        )
        let lease = Int64(lease.timeInterval * 1_000)
        configuration.options.connectTimeout = .milliseconds(lease)
        configuration.options.additionalStartupParameters = [
            ("idle_session_timeout", "\(lease)"),
            ("tcp_user_timeout", "\(lease)"),
            ("statement_timeout", "\(lease / 2)"),
            ("lock_timeout", "\(lease / 2)"),
            ("application_name", "dispatch-leadership"),
        ]
        return configuration
    }

    /// The TLS client configuration of the mode; nil for `disable`.
    private var tlsConfiguration: TLSConfiguration? {
        var verified = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate { verified.trustRoots = .file(rootCertificate) }
        switch tls {
        case .disable:
            return nil
        case .require:
            verified.certificateVerification = rootCertificate == nil ? .none : .noHostnameVerification
        case .verifyCA:
            verified.certificateVerification = .noHostnameVerification
        case .verifyFull:
            verified.certificateVerification = .fullVerification
        }
        return verified
    }

    private var base: PostgresClient.Configuration {
        let tlsConfiguration: PostgresClient.Configuration.TLS = self.tlsConfiguration.map { .require($0) } ?? .disable
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tlsConfiguration
        )
        configuration.options.connectionIdleTimeout = .seconds(60)
        return configuration
    }

    /// The connection target without the password, for logs.
    var description: String {
        "postgres://\(username)@\(host):\(port)/\(database) (sslmode=\(tls.rawValue)"
            + (rootCertificate.map { ", sslrootcert=\($0)" } ?? "") + ")"
    }
}
