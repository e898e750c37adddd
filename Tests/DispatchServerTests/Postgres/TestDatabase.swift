import Foundation
import Logging
import PostgresNIO
import Testing

@testable import DispatchServer

/// The throwaway PostgreSQL that `scripts/test` starts (TEST_DATABASE_URL); each test gets a fresh
/// database of its own, dropped afterwards.
enum TestDatabase {
    static let logger = Logger(label: "test-database")

    static func baseConfiguration() throws -> DatabaseConfiguration {
        guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] else {
            Issue.record("TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts PostgreSQL")
            throw TestDatabaseMissing()
        }
        return try DatabaseConfiguration(url: url)
    }

    /// Runs `body` with a client of the base database (for CREATE/DROP DATABASE).
    @discardableResult
    static func withClient<T: Sendable>(
        _ configuration: DatabaseConfiguration,
        _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// Creates a database for one test, runs `body` with its configuration, then drops it.
    static func withFreshDatabase(_ body: (DatabaseConfiguration) async throws -> Void) async throws {
        let base = try baseConfiguration()
        let name = "test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await withClient(base) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        var configuration = base
        configuration.database = name
        do {
            try await body(configuration)
        } catch {
            try? await drop(name, base)
            throw error
        }
        try await drop(name, base)
    }

    private static func drop(_ name: String, _ base: DatabaseConfiguration) async throws {
        try await withClient(base) { client in
            try await client.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"),
                logger: logger
            )
        }
    }
}

struct TestDatabaseMissing: Error {}

/// A server configuration for live tests against a database: a free port, PostgreSQL storage, tokens
/// signed with `testAuthSecret`.
func postgresConfiguration(_ database: DatabaseConfiguration) -> ServerConfiguration {
    var configuration = ServerConfiguration()
    configuration.auth.secret = testAuthSecret
    configuration.port = 0
    configuration.metricsPort = 0
    configuration.storage = .postgres
    configuration.database = database
    configuration.logLevel = .warning
    return configuration
}

extension PostgresClient {
    /// Runs `body` while another session holds the rides table locked in `mode` (`EXCLUSIVE`: writes
    /// wait, reads pass; `ACCESS EXCLUSIVE`: both wait), then ends that session's transaction
    /// (committing what `body` wrote in it, if anything) and so releases the lock.
    func withRidesLocked<T: Sendable>(
        _ mode: String = "EXCLUSIVE",
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.query("BEGIN", logger: TestDatabase.logger)
            try await connection.query(
                PostgresQuery(unsafeSQL: "LOCK TABLE rides IN \(mode) MODE"),
                logger: TestDatabase.logger
            )
            let value = try await body(connection)
            try await connection.query("COMMIT", logger: TestDatabase.logger)
            return value
        }
    }
}
