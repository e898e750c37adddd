import DispatchCore
import Foundation
import Logging
import Testing

@testable import DispatchServer

extension ServerConfiguration {
    /// Reads a configuration with `AUTH_SECRET` set to the test secret unless the environment sets it.
    init(signedArguments arguments: [String], environment: [String: String]) throws(ConfigurationError) {
        try self.init(
            arguments: arguments,
            environment: environment.merging(["AUTH_SECRET": testAuthSecret]) { given, _ in given }
        )
    }
}

@Suite("Authentication settings")
struct AuthConfigurationTests {
    @Test("a key is required: a secret, a secret file or a JWKS file, or AUTH=disabled said out loud")
    func keyRequired() throws {
        #expect {
            try ServerConfiguration(arguments: ["dispatch-server"], environment: [:])
        } throws: { error in
            (error as? ConfigurationError)?.message.contains("AUTH_SECRET") == true
        }
        let disabled = try ServerConfiguration(arguments: ["dispatch-server"], environment: ["AUTH": "disabled"])
        #expect(disabled.auth.disabled && !disabled.auth.hasKeys)
        for environment in [
            ["AUTH_SECRET": "short"], ["AUTH": "off"], ["AUTH": "disabled", "AUTH_SECRET": testAuthSecret],
            ["AUTH_SECRET_FILE": "/nonexistent/secret"],
            ["AUTH_SECRET": testAuthSecret, "AUTH_SECRET_FILE": "/nonexistent/secret"],
        ] {
            #expect(throws: ConfigurationError.self, "\(environment)") {
                try ServerConfiguration(arguments: ["dispatch-server"], environment: environment)
            }
        }
    }

    @Test("the secret and JWKS files are read, a mounted secret's trailing newline dropped")
    func files() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secret = directory.appendingPathComponent("secret")
        try Data((testAuthSecret + "\n").utf8).write(to: secret)
        let jwks = directory.appendingPathComponent("jwks.json")
        try Data(#"{"keys":[]}"#.utf8).write(to: jwks)
        let configuration = try ServerConfiguration(
            arguments: ["dispatch-server"],
            environment: [
                "AUTH_SECRET_FILE": secret.path, "AUTH_JWKS_FILE": jwks.path, "AUTH_ISSUER": "https://id.example",
                "AUTH_AUDIENCE": "dispatch", "AUTH_CACHE_TOKENS": "500",
            ]
        )
        #expect(configuration.auth.secret == testAuthSecret)
        #expect(configuration.auth.jwks == #"{"keys":[]}"#)
        #expect(configuration.auth.issuer == "https://id.example")
        #expect(configuration.auth.audience == "dispatch")
        #expect(configuration.auth.cachedTokens == 500)
    }
}

@Suite("Configuration from environment variables and flags")
struct ConfigurationTests {
    @Test("defaults")
    func defaults() throws {
        let configuration = try ServerConfiguration(signedArguments: ["dispatch-server"], environment: [:])
        var defaults = ServerConfiguration()
        defaults.auth.secret = testAuthSecret
        #expect(configuration == defaults)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.dispatch.driverFreshness == .seconds(30))
        #expect(configuration.storage == .memory)
    }

    @Test("environment variables are read, and a flag wins over its variable")
    func environmentAndFlags() throws {
        let configuration = try ServerConfiguration(
            signedArguments: ["dispatch-server", "--port", "9001", "--driver-ttl-seconds=12"],
            environment: [
                "HOST": "0.0.0.0", "PORT": "9000", "LOG_LEVEL": "DEBUG", "DRIVER_TTL_SECONDS": "45",
                "SHUTDOWN_DELAY_SECONDS": "5",
            ]
        )
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 9001)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.dispatch.driverFreshness == .seconds(12))
        #expect(configuration.shutdownDelay == .seconds(5))
    }

    @Test(
        "bad values are a clear error naming the option",
        arguments: [
            (["PORT": "0"], "PORT"),
            (["PORT": "http"], "PORT"),
            (["PORT": "65536"], "PORT"),
            (["LOG_LEVEL": "loud"], "LOG_LEVEL"),
            (["STORAGE": "redis"], "STORAGE"),
            (["DRIVER_TTL_SECONDS": "0"], "DRIVER_TTL_SECONDS"),
            (["DRIVER_TTL_SECONDS": "1.5"], "DRIVER_TTL_SECONDS"),
            (["HOST": ""], "HOST"),
            (["DRIVER_FORGET_SECONDS": "29"], "DRIVER_FORGET_SECONDS"),
            (["RATE_LOCATION_PER_SECOND": "0"], "RATE_LOCATION_PER_SECOND"),
            (["MAX_STREAMS": "lots"], "MAX_STREAMS"),
        ]
    )
    func badValues(environment: [String: String], mentions: String) {
        #expect {
            try ServerConfiguration(signedArguments: ["dispatch-server"], environment: environment)
        } throws: { error in
            (error as? ConfigurationError)?.message.contains(mentions) == true
        }
    }

    @Test("limits are read from their variables; forgetting follows the TTL unless set")
    func abuseLimits() throws {
        let configuration = try ServerConfiguration(
            signedArguments: ["dispatch-server"],
            environment: [
                "RATE_LOCATION_PER_SECOND": "5", "RATE_LOCATION_BURST": "20", "RATE_RIDES_PER_MINUTE": "12",
                "RATE_RIDES_BURST": "4", "RATE_REQUESTS_PER_SECOND": "50", "RATE_REQUESTS_BURST": "100",
                "RATE_SUBJECTS": "1000", "MAX_STREAMS": "500", "MAX_DRIVERS": "300", "MAX_OPEN_RIDES": "200",
                "DRIVER_TTL_SECONDS": "20",
            ]
        )
        let limits = configuration.rateLimits
        #expect(limits.locationReports == RateLimit(perSecond: 5, burst: 20))
        #expect(limits.rideRequests == RateLimit(perSecond: 0.2, burst: 4))
        #expect(limits.requests == RateLimit(perSecond: 50, burst: 100))
        #expect(limits.maximumSubjects == 1_000)
        #expect(configuration.maximumStreams == 500)
        #expect(configuration.dispatch.maximumDrivers == 300)
        #expect(configuration.dispatch.maximumOpenRides == 200)
        #expect(configuration.dispatch.driverForgetAfter == .seconds(200))
        let forget = try ServerConfiguration(
            signedArguments: ["dispatch-server"],
            environment: ["DRIVER_TTL_SECONDS": "20", "DRIVER_FORGET_SECONDS": "45"]
        )
        #expect(forget.dispatch.driverForgetAfter == .seconds(45))
        #expect(ServerConfiguration().dispatch.driverForgetAfter == .seconds(300))
    }

    @Test("dispatch settings are read from their variables")
    func dispatchSettings() throws {
        let configuration = try ServerConfiguration(
            signedArguments: ["dispatch-server", "--matching", "batch"],
            environment: [
                "BATCH_WINDOW_MS": "250", "OFFER_TIMEOUT_SECONDS": "20", "SEARCH_RADIUS_METERS": "2000",
                "MAX_SEARCH_RADIUS_METERS": "8000", "SEARCH_RADIUS_STEP_METERS": "500",
                "SEARCH_WIDEN_INTERVAL_SECONDS": "5", "SEARCH_TIMEOUT_SECONDS": "90", "CITY_SPEED_KMH": "30",
                "STORE_GROUP_COMMIT": "false", "SERVICE_AREA": "37.42, 126.76, 37.70, 127.18",
            ]
        )
        #expect(configuration.dispatch.serviceArea?.description == "37.42,126.76,37.7,127.18")
        #expect(!configuration.groupCommit)
        let dispatch = configuration.dispatch
        #expect(dispatch.matching == .batch)
        #expect(dispatch.batchWindow == .milliseconds(250))
        #expect(dispatch.offerTimeout == .seconds(20))
        #expect(dispatch.searchRadius == 2_000)
        #expect(dispatch.maxSearchRadius == 8_000)
        #expect(dispatch.searchRadiusStep == 500)
        #expect(dispatch.searchWidenInterval == .seconds(5))
        #expect(dispatch.searchTimeout == .seconds(90))
        #expect(dispatch.citySpeedKilometersPerHour == 30)
    }

    @Test(
        "bad dispatch settings are a clear error",
        arguments: [
            (["MATCHING": "random"], "MATCHING"),
            (["BATCH_WINDOW_MS": "0"], "BATCH_WINDOW_MS"),
            (["OFFER_TIMEOUT_SECONDS": "-1"], "OFFER_TIMEOUT_SECONDS"),
            (["SEARCH_RADIUS_METERS": "5000", "MAX_SEARCH_RADIUS_METERS": "4000"], "at least SEARCH_RADIUS_METERS"),
            (["MAX_SEARCH_RADIUS_METERS": "200000"], "MAX_SEARCH_RADIUS_METERS"),
            (["CITY_SPEED_KMH": "fast"], "CITY_SPEED_KMH"),
            (["STORE_GROUP_COMMIT": "sometimes"], "STORE_GROUP_COMMIT"),
            (["SERVICE_AREA": "37.42,126.76,37.70"], "SERVICE_AREA"),
            (["SERVICE_AREA": "37.70,126.76,37.42,127.18"], "SERVICE_AREA"),
            (["SERVICE_AREA": "37.42,126.76,95,127.18"], "SERVICE_AREA"),
            (["ROAD_GRAPH": "/nonexistent/city.graph"], "ROAD_GRAPH"),
            (["ROAD_GRAPH": "README.md"], "not a road graph"),
            (["DISPATCH_RANKING": "eta"], "needs a road graph"),
            (["DISPATCH_RANKING": "cheapest"], "DISPATCH_RANKING"),
            (["ACCEPTANCE_PRIOR": "2"], "ACCEPTANCE_PRIOR"),
            (["ACCEPTANCE_WEIGHT": "much"], "ACCEPTANCE_WEIGHT"),
            (["DECLINE_COST_SECONDS": "-1"], "DECLINE_COST_SECONDS"),
            (["ROAD_GRAPH": "roads/monaco.graph", "MAX_PICKUP_ETA_SECONDS": "5"], "MAX_PICKUP_ETA_SECONDS"),
        ]
    )
    func badDispatchSettings(environment: [String: String], mentions: String) {
        #expect {
            try ServerConfiguration(signedArguments: ["dispatch-server"], environment: environment)
        } throws: { error in
            (error as? ConfigurationError)?.message.contains(mentions) == true
        }
    }

    @Test("limits and overload settings are read from their variables; 0 turns the report age limit off")
    func limits() throws {
        let defaults = ServerConfiguration()
        #expect(defaults.dispatch.locationMaximumAge == .seconds(4))
        #expect(defaults.commandDeadline == .seconds(2))
        let configuration = try ServerConfiguration(
            signedArguments: ["dispatch-server", "--max-connections", "5000"],
            environment: [
                "LOCATION_MAX_AGE_MS": "0", "COMMAND_DEADLINE_MS": "1500", "OVERLOAD_REPORT_LAG_MS": "40",
                "OVERLOAD_REQUEST_LAG_MS": "90", "OVERLOAD_COMMIT_WAIT_MS": "300", "MAX_WAITING_COMMANDS": "64",
                "OVERLOAD_RETRY_AFTER_SECONDS": "5", "MAX_CONNECTIONS": "9",
            ]
        )
        #expect(configuration.dispatch.locationMaximumAge == nil)
        #expect(configuration.maximumConnections == 5_000)
        #expect(configuration.commandDeadline == .milliseconds(1_500))
        #expect(
            configuration.admission
                == AdmissionPolicy(
                    reportLagLimit: .milliseconds(40),
                    requestLagLimit: .milliseconds(90),
                    requestCommitLimit: .milliseconds(300),
                    maximumWaitingCommands: 64,
                    retryAfterSeconds: 5
                )
        )
    }

    @Test(
        "bad limits are a clear error",
        arguments: [
            (["MAX_CONNECTIONS": "8"], "MAX_CONNECTIONS"),
            (["COMMAND_DEADLINE_MS": "soon"], "COMMAND_DEADLINE_MS"),
            (["OVERLOAD_REPORT_LAG_MS": "0"], "OVERLOAD_REPORT_LAG_MS"),
            (["MAX_WAITING_COMMANDS": "1"], "MAX_WAITING_COMMANDS"),
            (["LOCATION_MAX_AGE_MS": "-1"], "LOCATION_MAX_AGE_MS"),
        ]
    )
    func badLimits(environment: [String: String], mentions: String) {
        #expect {
            try ServerConfiguration(signedArguments: ["dispatch-server"], environment: environment)
        } throws: { error in
            (error as? ConfigurationError)?.message.contains(mentions) == true
        }
    }

    @Test("an unknown flag is an error, not silently ignored")
    func unknownFlag() {
        #expect(throws: ConfigurationError("unknown option --prot; run with --help to list the options")) {
            try ServerConfiguration(signedArguments: ["dispatch-server", "--prot", "80"], environment: [:])
        }
    }

    @Test("help lists every option with its variable and flag")
    func help() {
        for option in ServerConfiguration.options {
            #expect(ServerConfiguration.help.contains(option.flag))
            #expect(ServerConfiguration.help.contains(option.environmentVariable))
        }
    }
}

@Suite("Database configuration")
struct DatabaseConfigurationTests {
    @Test("STORAGE=postgres reads DATABASE_URL; the password never shows in the description")
    func databaseURL() throws {
        let configuration = try ServerConfiguration(
            signedArguments: ["dispatch-server"],
            environment: [
                "STORAGE": "postgres", "DATABASE_URL": "postgres://app:s3cr%40t@db.example:6543/rides?sslmode=require",
            ]
        )
        let database = try #require(configuration.database)
        #expect(database.host == "db.example")
        #expect(database.port == 6543)
        #expect(database.username == "app")
        #expect(database.password == "s3cr@t")
        #expect(database.database == "rides")
        #expect(database.tls == .require)
        #expect(!database.description.contains("s3cr"))
    }

    @Test("verify-full with a root certificate, from the URL or the variables")
    func verifiedTLS() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dispatch-test-root-\(UUID()).crt")
        try Data("not parsed here".utf8).write(to: root)
        defer { try? FileManager.default.removeItem(at: root) }
        let fromURL = try ServerConfiguration(
            signedArguments: ["dispatch-server"],
            environment: [
                "STORAGE": "postgres",
                "DATABASE_URL": "postgres://u@db.example/d?sslmode=verify-full&sslrootcert=\(root.path)",
            ]
        )
        #expect(fromURL.database?.tls == .verifyFull)
        #expect(fromURL.database?.rootCertificate == root.path)
        let fromVariables = try ServerConfiguration(
            signedArguments: ["dispatch-server"],
            environment: [
                "STORAGE": "postgres", "POSTGRES_HOST": "db.example", "POSTGRES_SSLMODE": "verify-ca",
                "POSTGRES_SSLROOTCERT": root.path,
            ]
        )
        #expect(fromVariables.database?.tls == .verifyCA)
        #expect(fromVariables.database?.description.contains("sslmode=verify-ca") == true)
    }

    @Test("the POSTGRES_* variables work instead of DATABASE_URL")
    func postgresVariables() throws {
        let configuration = try ServerConfiguration(
            signedArguments: ["dispatch-server"],
            environment: [
                "STORAGE": "postgres", "POSTGRES_HOST": "pg", "POSTGRES_USER": "u", "POSTGRES_PASSWORD": "p",
                "POSTGRES_DB": "d",
            ]
        )
        #expect(
            configuration.database
                == DatabaseConfiguration(
                    host: "pg",
                    port: 5432,
                    username: "u",
                    password: "p",
                    database: "d",
                    tls: .disable
                )
        )
    }

    @Test(
        "bad database settings are a clear error",
        arguments: [
            (["STORAGE": "postgres"], "needs DATABASE_URL"),
            (["STORAGE": "postgres", "DATABASE_URL": "mysql://u@h/d"], "DATABASE_URL must look like"),
            (["STORAGE": "postgres", "DATABASE_URL": "postgres://h/d"], "no user name"),
            (["STORAGE": "postgres", "DATABASE_URL": "postgres://u@h/d?sslmode=maybe"], "sslmode"),
            (["STORAGE": "postgres", "DATABASE_URL": "postgres://u@h/d?sslmode=prefer"], "downgrade"),
            (["STORAGE": "postgres", "POSTGRES_HOST": "h", "POSTGRES_SSLMODE": "allow"], "downgrade"),
            (
                ["STORAGE": "postgres", "POSTGRES_HOST": "h", "POSTGRES_SSLROOTCERT": "/no/such/ca.crt"],
                "cannot be read"
            ),
            (["STORAGE": "postgres", "POSTGRES_HOST": "h", "POSTGRES_PORT": "x"], "POSTGRES_PORT"),
        ]
    )
    func badSettings(environment: [String: String], mentions: String) {
        #expect {
            try ServerConfiguration(signedArguments: ["dispatch-server"], environment: environment)
        } throws: { error in
            (error as? ConfigurationError)?.message.contains(mentions) == true
        }
    }
}

@Suite("Road graph settings")
struct RoadGraphConfigurationTests {
    /// The repository's root: the tests run from it, but `#filePath` does not depend on that.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("a road graph is read at start-up, and ranks by ETA unless told otherwise")
    func roadGraph() throws {
        let none = try ServerConfiguration(signedArguments: ["dispatch-server"], environment: [:])
        #expect(none.roads == nil)
        #expect(none.dispatch.ranking == .distance)
        let path = Self.root.appendingPathComponent("roads/monaco.graph").path
        let monaco = try ServerConfiguration(signedArguments: ["dispatch-server"], environment: ["ROAD_GRAPH": path])
        #expect(monaco.roads?.graph.nodeCount == 14_324)
        #expect(monaco.dispatch.ranking == .eta)
        #expect(monaco.dispatch.maximumPickupETA == .seconds(1_200))
        let byDistance = try ServerConfiguration(
            signedArguments: ["dispatch-server", "--dispatch-ranking", "distance", "--max-pickup-eta-seconds", "600"],
            environment: ["ROAD_GRAPH": path]
        )
        #expect(byDistance.dispatch.ranking == .distance)
        #expect(byDistance.dispatch.maximumPickupETA == .seconds(600))
        // Ranking by who will accept needs no graph (its ETAs are then straight lines).
        let acceptance = try ServerConfiguration(
            signedArguments: ["dispatch-server"],
            environment: [
                "DISPATCH_RANKING": "eta-acceptance", "ACCEPTANCE_PRIOR": "0.7", "ACCEPTANCE_WEIGHT": "0.5",
                "ACCEPTANCE_HALF_LIFE_SECONDS": "600", "DECLINE_COST_SECONDS": "8",
            ]
        )
        #expect(acceptance.dispatch.ranking == .etaAcceptance)
        #expect(acceptance.dispatch.acceptance.prior == 0.7)
        #expect(acceptance.dispatch.acceptance.weight == 0.5)
        #expect(acceptance.dispatch.acceptance.halfLife == .seconds(600))
        #expect(acceptance.dispatch.acceptance.declineCost == .seconds(8))
    }
}
