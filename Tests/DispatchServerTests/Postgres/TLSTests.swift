import Foundation
import PostgresNIO
import Testing

@testable import DispatchServer

/// Against the TLS-enabled PostgreSQL of `scripts/test` (its throwaway CA in TEST_POSTGRES_CA).
@Suite("TLS to PostgreSQL: encrypted, and verified as the sslmode says")
struct PostgresTLSTests {
    func configuration(
        _ mode: DatabaseConfiguration.TLSMode,
        root: String?,
        host: String? = nil
    ) throws
        -> DatabaseConfiguration
    {
        var configuration = try TestDatabase.baseConfiguration()
        configuration.tls = mode
        configuration.rootCertificate = root
        if let host { configuration.host = host }
        return configuration
    }

    func certificate(_ variable: String) throws -> String {
        guard let path = ProcessInfo.processInfo.environment[variable] else {
            Issue.record("\(variable) is not set: run the tests with scripts/test")
            throw TestDatabaseMissing()
        }
        return path
    }

    /// Whether this session's connection is encrypted, as the server sees it.
    func encrypted(_ configuration: DatabaseConfiguration) async throws -> Bool {
        var client = configuration.client
        client.options.connectTimeout = .seconds(5)
        let postgres = PostgresClient(configuration: client, backgroundLogger: TestDatabase.logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await postgres.run() }
            defer { group.cancelAll() }
            return try await withDeadline(.seconds(10)) {
                var encrypted = false
                for try await ssl in try await postgres.query(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    logger: TestDatabase.logger
                ).decode(Bool.self) {
                    encrypted = ssl
                }
                return encrypted
            }
        }
    }

    @Test("verify-full with the server's CA and the name its certificate carries connects, encrypted")
    func verifyFull() async throws {
        let root = try certificate("TEST_POSTGRES_CA")
        #expect(try await encrypted(configuration(.verifyFull, root: root, host: "localhost")))
    }

    @Test("verify-full and verify-ca refuse a server whose certificate does not chain to the root given")
    func wrongRoot() async throws {
        let other = try certificate("TEST_POSTGRES_OTHER_CA")
        for mode in [DatabaseConfiguration.TLSMode.verifyFull, .verifyCA] {
            await #expect(throws: (any Error).self) {
                _ = try await encrypted(configuration(mode, root: other, host: "localhost"))
            }
        }
    }

    @Test("verify-full refuses a host the certificate does not name; verify-ca accepts it")
    func hostName() async throws {
        let root = try certificate("TEST_POSTGRES_CA")
        // The certificate names localhost only; 127.0.0.1 is the same server, by a name it lacks.
        await #expect(throws: (any Error).self) {
            _ = try await encrypted(configuration(.verifyFull, root: root, host: "127.0.0.1"))
        }
        #expect(try await encrypted(configuration(.verifyCA, root: root, host: "127.0.0.1")))
    }

    @Test("require encrypts without verifying (no root given)")
    func require() async throws {
        #expect(try await encrypted(configuration(.require, root: nil)))
    }
}
