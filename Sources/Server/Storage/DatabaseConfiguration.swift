import Foundation
import NIOSSL
import PostgresNIO

/// Where PostgreSQL is: `DATABASE_URL` (`postgres://user:password@host:port/database?sslmode=...`),
/// or the `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_DB`
/// variables (with `POSTGRES_SSLMODE`). The password is never logged.
struct DatabaseConfiguration: Sendable, Equatable, CustomStringConvertible {
    enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
    }

    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String
    var tls: TLSMode

    init(host: String, port: Int, username: String, password: String?, database: String, tls: TLSMode) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
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
        guard let tls = TLSMode(rawValue: mode) else {
            throw ConfigurationError("DATABASE_URL's sslmode must be disable, prefer or require, got \"\(mode)\"")
        }
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
        let mode = environment["POSTGRES_SSLMODE"] ?? "disable"
        guard let tls = TLSMode(rawValue: mode) else {
            throw ConfigurationError("POSTGRES_SSLMODE must be disable, prefer or require, got \"\(mode)\"")
        }
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

    private var base: PostgresClient.Configuration {
        let tlsConfiguration: PostgresClient.Configuration.TLS =
            switch tls {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
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
    var description: String { "postgres://\(username)@\(host):\(port)/\(database) (sslmode=\(tls.rawValue))" }
}
