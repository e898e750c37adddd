import Foundation
import Logging
import PostgresNIO

/// The database schema, as versioned migrations applied in order at start-up.
///
/// `Migrations.idempotencyKeyIndex` names the index that keeps idempotency keys unique per rider; a
/// write refused by it is a retry that raced its original (`RideService.request`).
///
/// Rules: a migration is never edited once applied (its checksum is stored and checked at every
/// start; a mismatch stops the service); changes are new migrations with the next version. Two
/// instances starting at once are safe: the whole run holds a PostgreSQL advisory lock.
enum Migrations {
    struct Migration: Sendable {
        let version: Int
        let name: String
        /// The statements, run in order in one transaction (one statement per query: PostgreSQL's
        /// extended protocol takes one at a time).
        let statements: [String]

        var sql: String { statements.joined(separator: ";\n") }

        /// FNV-1a of the SQL: detects an edited migration (not a security measure).
        var checksum: String {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in sql.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            return String(hash, radix: 16)
        }
    }

    /// The advisory lock key of the migration run (an arbitrary constant: "dispatch" in ASCII).
    static let advisoryLockKey: Int64 = 0x6469_7370_6174_6368

    /// The unique index of (rider, idempotency key), from migration 2.
    static let idempotencyKeyIndex = "rides_by_idempotency_key"

    static let all: [Migration] = [
        Migration(
            version: 1,
            name: "rides and ride events",
            statements: [
                """
                CREATE TABLE rides (
                    id text PRIMARY KEY,
                    rider_id text NOT NULL,
                    status text NOT NULL,
                    pickup_lat double precision NOT NULL,
                    pickup_lng double precision NOT NULL,
                    dropoff_lat double precision NOT NULL,
                    dropoff_lng double precision NOT NULL,
                    driver_id text,
                    pickup_distance_m double precision,
                    eta_ms bigint,
                    requested_at timestamptz NOT NULL,
                    offered_at timestamptz,
                    accepted_at timestamptz,
                    arrived_at timestamptz,
                    started_at timestamptz,
                    completed_at timestamptz,
                    cancelled_at timestamptz,
                    last_sequence integer NOT NULL,
                    idempotency_key text UNIQUE,
                    search_radius_m double precision NOT NULL,
                    search_deadline timestamptz NOT NULL,
                    excluded_drivers text NOT NULL DEFAULT '',
                    updated_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                "CREATE INDEX rides_by_rider ON rides (rider_id, requested_at DESC)",
                "CREATE INDEX rides_by_driver ON rides (driver_id, requested_at DESC) WHERE driver_id IS NOT NULL",
                """
                CREATE INDEX rides_unfinished ON rides (requested_at)
                    WHERE status NOT IN ('completed', 'cancelled', 'unfulfilled')
                """,
                """
                CREATE TABLE ride_events (
                    ride_id text NOT NULL REFERENCES rides (id),
                    sequence integer NOT NULL,
                    type text NOT NULL,
                    at timestamptz NOT NULL,
                    payload jsonb NOT NULL,
                    PRIMARY KEY (ride_id, sequence)
                )
                """,
            ]
        ),
        Migration(
            version: 2,
            name: "idempotency keys scoped to the rider",
            statements: [
                "ALTER TABLE rides DROP CONSTRAINT rides_idempotency_key_key",
                "CREATE UNIQUE INDEX rides_by_idempotency_key ON rides (rider_id, idempotency_key)",
            ]
        ),
        Migration(
            version: 3,
            name: "dead letters: entries the database refused for good",
            statements: [
                """
                CREATE TABLE dead_letters (
                    id bigserial PRIMARY KEY,
                    position bigint NOT NULL,
                    ride_ids text[] NOT NULL,
                    events jsonb NOT NULL,
                    error text NOT NULL,
                    refused_at timestamptz NOT NULL DEFAULT now()
                )
                """
            ]
        ),
        Migration(
            version: 4,
            name: "drivers' own status, kept across restarts",
            statements: [
                """
                CREATE TABLE driver_states (
                    driver_id text PRIMARY KEY,
                    status text NOT NULL CHECK (status IN ('available', 'offline')),
                    changed_at timestamptz NOT NULL
                )
                """,
                "CREATE INDEX driver_states_offline ON driver_states (changed_at DESC) WHERE status = 'offline'",
            ]
        ),
        Migration(
            version: 5,
            name: "leadership: one leader per region, and the epoch that fences its writes",
            statements: [
                """
                CREATE TABLE leadership (
                    region text PRIMARY KEY,
                    epoch bigint NOT NULL CHECK (epoch > 0),
                    holder text NOT NULL,
                    address text NOT NULL,
                    since timestamptz NOT NULL DEFAULT now()
                )
                """,
                // Which term wrote each event: the proof that a deposed leader committed nothing more.
                "ALTER TABLE ride_events ADD COLUMN epoch bigint",
                """
                CREATE FUNCTION dispatch_fence(fence_region text, fence_epoch bigint) RETURNS bigint
                LANGUAGE plpgsql AS $$
                DECLARE
                    current_epoch bigint;
                BEGIN
                    SELECT epoch INTO current_epoch FROM leadership WHERE region = fence_region FOR SHARE;
                    IF current_epoch IS DISTINCT FROM fence_epoch THEN
                        RAISE EXCEPTION 'deposed: epoch % of region % is not current (it is %)',
                            fence_epoch, fence_region, current_epoch
                            USING ERRCODE = 'DP001';
                    END IF;
                    RETURN fence_epoch;
                END
                $$
                """,
            ]
        ),
        Migration(
            version: 6,
            name: "offer_decisions: why each offer went to its driver, stored with the offer's event",
            statements: [
                // One row per offer, keyed by its `ride_offered` event and written in the same
                // statement or transaction: a decision is stored exactly when its offer is.
                """
                CREATE TABLE offer_decisions (
                    ride_id text NOT NULL,
                    sequence integer NOT NULL,
                    driver_id text NOT NULL,
                    offered_at timestamptz NOT NULL,
                    policy text NOT NULL,
                    record jsonb NOT NULL,
                    PRIMARY KEY (ride_id, sequence),
                    FOREIGN KEY (ride_id, sequence) REFERENCES ride_events (ride_id, sequence)
                )
                """,
                // `dispatch-server replay` reads them in time order; fairness audits by driver.
                "CREATE INDEX offer_decisions_by_time ON offer_decisions (offered_at)",
                "CREATE INDEX offer_decisions_by_driver ON offer_decisions (driver_id, offered_at)",
            ]
        ),
    ]

    /// Applies every migration not yet applied, each in its own transaction, under the advisory lock.
    /// - Returns: The versions applied by this call.
    /// - Throws: When an applied migration's checksum differs from the code's, or on database errors.
    @discardableResult
    static func apply(_ migrations: [Migration] = all, on client: PostgresClient, logger: Logger) async throws -> [Int]
    {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(advisoryLockKey))", logger: logger)
            do {
                let applied = try await run(migrations, on: connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(advisoryLockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(advisoryLockKey))", logger: logger)
                throw error
            }
        }
    }

    private static func run(
        _ migrations: [Migration],
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [Int] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            logger: logger
        )
        var existing: [Int: String] = [:]
        for try await (version, checksum) in try await connection.query(
            "SELECT version, checksum FROM schema_migrations",
            logger: logger
        ).decode((Int, String).self) {
            existing[version] = checksum
        }
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            if let checksum = existing[migration.version] {
                guard checksum == migration.checksum else {
                    throw MigrationError(
                        "migration \(migration.version) (\(migration.name)) was edited after it was applied; "
                            + "add a new migration instead"
                    )
                }
                continue
            }
            logger.info("applying migration", metadata: ["migration.version": "\(migration.version)"])
            try await connection.withTransaction(logger: logger) { connection in
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                    logger: logger
                )
            }
            applied.append(migration.version)
        }
        return applied
    }
}

/// A migration problem that must stop the service.
struct MigrationError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
