import Foundation
import Logging
import PostgresNIO
import Testing

@testable import DispatchServer

@Suite("Migrations against a real PostgreSQL", .serialized)
struct MigrationTests {
    @Test("from empty they apply once; a re-run applies nothing; the tables exist")
    func fromEmptyAndAgain() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await TestDatabase.withClient(database) { client in
                let first = try await Migrations.apply(on: client, logger: TestDatabase.logger)
                #expect(first == Migrations.all.map(\.version))
                let second = try await Migrations.apply(on: client, logger: TestDatabase.logger)
                #expect(second == [])
                var tables: [String] = []
                for try await (name, ) in try await client.query(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
                ).decode((String,).self) {
                    tables.append(name)
                }
                #expect(
                    tables == [
                        "dead_letters", "driver_states", "leadership", "offer_decisions", "ride_events", "rides",
                        "schema_migrations",
                    ]
                )
            }
        }
    }

    @Test("two instances starting at once apply each migration exactly once (advisory lock)")
    func concurrentStarts() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await TestDatabase.withClient(database) { client in
                async let a = Migrations.apply(on: client, logger: TestDatabase.logger)
                async let b = Migrations.apply(on: client, logger: TestDatabase.logger)
                let (applied1, applied2) = try await (a, b)
                #expect((applied1 + applied2).sorted() == Migrations.all.map(\.version))
                let rows = try await client.query("SELECT count(*) FROM schema_migrations").decode((Int,).self)
                for try await (count, ) in rows { #expect(count == Migrations.all.count) }
            }
        }
    }

    @Test("an applied migration that was edited stops the start-up with a clear error")
    func editedMigration() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await TestDatabase.withClient(database) { client in
                try await Migrations.apply(on: client, logger: TestDatabase.logger)
                let edited = [
                    Migrations.Migration(version: 1, name: "rides and ride events", statements: ["SELECT 1"])
                ]
                await #expect {
                    try await Migrations.apply(edited, on: client, logger: TestDatabase.logger)
                } throws: { error in
                    String(describing: error).contains("was edited after it was applied")
                }
            }
        }
    }
}
