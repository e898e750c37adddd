import Configuration
import DispatchCore
import Foundation
import Geo
import Logging

/// Everything `dispatch-server` can be told at start-up, read from environment variables and
/// command-line flags (a flag wins over the variable).
///
/// Each key has one spelling per source: key `driver.ttl.seconds` is `DRIVER_TTL_SECONDS` in the
/// environment and `--driver-ttl-seconds` on the command line (swift-configuration's encoders).
struct ServerConfiguration: Sendable, Equatable {
    /// Where readings and writes of rides go.
    enum Storage: String, Sendable, CaseIterable {
        /// In memory only: demos, tests, benchmarks of the core.
        case memory
        /// PostgreSQL: rides and their events are durable before commands are answered.
        case postgres
    }

    /// How log lines are written.
    enum LogFormat: String, Sendable, CaseIterable {
        /// swift-log's text lines, for people.
        case text
        /// One JSON object per line (`JSONLogHandler`), for a log pipeline.
        case json
    }

    var host = "127.0.0.1"
    var port = 8080
    /// The port of `/metrics` (`METRICS_PORT`), apart from the API's; 0: any free port (tests).
    var metricsPort = 9090
    var logLevel = Logger.Level.info
    /// How log lines look (`LOG_FORMAT`): `text` for people, `json` for a log pipeline.
    var logFormat = LogFormat.text
    var storage = Storage.memory
    var shutdownDelay = Duration.zero
    /// The dispatch core's settings (driver freshness, matching, ranking, offers, search).
    var dispatch = DispatchConfiguration()
    /// The service area's roads (`ROAD_GRAPH`), read at start-up; nil: ETAs in a straight line.
    var roads: RoadGraphFile?
    /// Where PostgreSQL is, with `STORAGE=postgres`.
    var database: DatabaseConfiguration?
    /// Whether the writer groups queued commands into one transaction (`STORE_GROUP_COMMIT`).
    var groupCommit = true
    /// The most connections (HTTP and driver channels) served at once (`MAX_CONNECTIONS`); one more is
    /// answered `503` with `Retry-After` and closed (`ConnectionBudget`), and past a reserve of a
    /// sixteenth more, new ones wait in the listen queue until one closes.
    var maximumConnections = 16_000
    /// The most event streams (Server-Sent Events and driver channels) open at once (`MAX_STREAMS`).
    var maximumStreams = 16_000
    /// The most operators' console streams (`GET /v1/ops/stream`) open at once (`MAX_OPS_VIEWERS`).
    var maximumOpsViewers = 8
    /// The driver cohorts the fairness metrics tell apart (`DRIVER_COHORTS`), from the drivers' tokens'
    /// `cohort` claim; a driver whose token names another is counted as `other`, one without as `none`.
    var driverCohorts: [String] = []
    /// How long a connection may stay unwritable (its client not reading) before it is closed
    /// (`WRITE_TIMEOUT_SECONDS`).
    var writeTimeout = Duration.seconds(30)
    /// The longest a command waits for its commit before it is answered `503 commit_timeout`
    /// (`COMMAND_DEADLINE_MS`).
    var commandDeadline = Duration.seconds(2)
    /// When requests are shed (`OVERLOAD_*`, `MAX_WAITING_COMMANDS`).
    var admission = AdmissionPolicy()
    /// How callers are authenticated (`AUTH_*`).
    var auth = AuthConfiguration()
    /// Each rider's and driver's rate limits (`RATE_*`).
    var rateLimits = RateLimitPolicy()
    /// How the region's replicas elect their leader (with PostgreSQL).
    var leadership = LeadershipConfiguration()

    /// The documented options, in `--help` order.
    static let options: [Option] = [
        Option("host", "127.0.0.1", "Address to listen on."),
        Option("port", "8080", "TCP port to listen on (1-65535)."),
        Option("metrics.port", "9090", "TCP port of /metrics, for Prometheus only (not the API's port)."),
        Option("log.level", "info", "trace, debug, info, notice, warning, error or critical."),
        Option("log.format", "text", "text (one line for people) or json (one object per line, with request IDs)."),
        Option("storage", "memory", "Where rides are kept: memory (lost on restart) or postgres (durable)."),
        Option(
            "database.url",
            "",
            "postgres://user:password@host:5432/db[?sslmode=verify-full&sslrootcert=ca.crt] (or POSTGRES_HOST, _PORT, _USER, _PASSWORD, _DB, _SSLMODE, _SSLROOTCERT)."
        ),
        Option(
            "driver.ttl.seconds",
            "30",
            "Seconds after its last location report that a driver drops out of every answer."
        ),
        Option(
            "matching",
            "greedy",
            "greedy (offer each request at once) or batch (assign requests together per window)."
        ),
        Option("batch.window.ms", "500", "Batch matching: milliseconds to collect requests before assigning them."),
        Option("offer.timeout.seconds", "15", "Seconds a driver has to accept or decline an offer."),
        Option("search.radius.meters", "3000", "The first search radius around a pickup."),
        Option("max.search.radius.meters", "10000", "The widest search radius (at most 100000)."),
        Option("search.radius.step.meters", "1000", "How much the radius grows at each widening step."),
        Option("search.widen.interval.seconds", "10", "Seconds to search at one radius before widening."),
        Option("search.timeout.seconds", "120", "Seconds a ride may search before it is unfulfilled."),
        Option(
            "pickup.grace.factor",
            "2",
            "Watchdog: an accepted ride whose driver has not arrived by ETA x this + PICKUP_GRACE_SECONDS searches again."
        ),
        Option("pickup.grace.seconds", "300", "Watchdog: the margin added to the ETA x PICKUP_GRACE_FACTOR."),
        Option(
            "assigned.driver.ttl.seconds",
            "120",
            "Watchdog: a driver holding an accepted or arrived ride silent this long is treated as gone."
        ),
        Option("max.trip.seconds", "14400", "Watchdog: a trip in progress this long is completed by the service."),
        Option(
            "service.area",
            "",
            "minLat,minLng,maxLat,maxLng: rides picked up outside are refused (422); empty: anywhere."
        ),
        Option(
            "city.speed.kmh",
            "25",
            "Average city speed of straight-line ETAs (without a road graph, or off its roads)."
        ),
        Option("road.graph", "", "A road graph file (roads/README.md): candidates are ranked by road ETA."),
        Option(
            "dispatch.ranking",
            "eta with ROAD_GRAPH, else distance",
            "distance (nearest first), eta (fastest by road; needs ROAD_GRAPH) or eta-acceptance (soonest on the way)."
        ),
        Option(
            "acceptance.prior",
            "0.8",
            "eta-acceptance: the chance of accepting assumed for a driver with no history (0.05-1)."
        ),
        Option(
            "acceptance.weight",
            "1",
            "eta-acceptance: how much the expected cost of a decline or expiry counts against the ETA (0-10)."
        ),
        Option(
            "acceptance.half.life.seconds",
            "3600",
            "eta-acceptance: how fast a driver's old offer outcomes lose their weight."
        ),
        Option(
            "decline.cost.seconds",
            "5",
            "eta-acceptance: what a declined offer costs the rider (an expired one costs the offer timeout)."
        ),
        Option(
            "max.pickup.eta.seconds",
            "1200",
            "Ranking by ETA: a driver the roads do not bring to the pickup this soon is not a candidate."
        ),
        Option("shutdown.delay.seconds", "0", "On SIGTERM, seconds to answer /readyz with 503 before draining."),
        Option(
            "store.group.commit",
            "true",
            "true: one transaction for all writes queued meanwhile; false: one per command (for benchmarks)."
        ),
        Option(
            "location.max.age.ms",
            "4000",
            "A report whose fix is older than this is dropped while the driver's position is fresh; 0: never."
        ),
        Option("max.connections", "16000", "The most HTTP connections and driver channels open at once."),
        Option("max.streams", "16000", "The most event streams and driver channels open at once (2 per caller)."),
        Option("max.ops.viewers", "8", "The most operators' console streams (/v1/ops/stream) open at once."),
        Option(
            "driver.cohorts",
            "",
            "Comma-separated cohort labels (token claim `cohort`) the fairness metrics tell apart; at most 16."
        ),
        Option(
            "write.timeout.seconds",
            "30",
            "Seconds a connection may stay unwritable (a client not reading its stream) before it is closed."
        ),
        Option(
            "max.drivers",
            "200000",
            "The most drivers remembered; a report from one more is 503 capacity_exhausted."
        ),
        Option("max.open.rides", "100000", "The most unfinished rides; one more is 503 capacity_exhausted."),
        Option(
            "driver.forget.seconds",
            "",
            "Seconds after its last report that an idle driver is forgotten entirely (default: 10 x DRIVER_TTL_SECONDS)."
        ),
        Option("command.deadline.ms", "2000", "The longest a command waits for its commit before 503 commit_timeout."),
        Option(
            "overload.report.lag.ms",
            "100",
            "Scheduling lag above which location reports, reads and new streams are shed (503, Retry-After)."
        ),
        Option("overload.request.lag.ms", "250", "Scheduling lag above which new ride requests are shed too."),
        Option(
            "overload.commit.wait.ms",
            "500",
            "New ride requests are shed while the oldest command has waited this long for its commit."
        ),
        Option(
            "max.waiting.commands",
            "2000",
            "The most commands waiting for their commit; past half of it new ride requests are shed."
        ),
        Option("overload.retry.after.seconds", "2", "The Retry-After of a shed request."),
        Option("rate.location.per.second", "2", "Location reports a driver may send per second, sustained."),
        Option("rate.location.burst", "10", "Location reports a driver may send at once after a quiet spell."),
        Option("rate.rides.per.minute", "6", "Ride requests a rider may make per minute, sustained."),
        Option("rate.rides.burst", "3", "Ride requests a rider may make at once."),
        Option("rate.requests.per.second", "10", "Other commands and reads per rider or driver per second."),
        Option("rate.requests.burst", "30", "Other commands and reads per rider or driver at once."),
        Option("rate.subjects", "200000", "The most callers whose rate-limit buckets are remembered."),
        Option("region", "default", "The region this replica dispatches for: one leader per region (postgres)."),
        Option("leader.id", "<host>-<pid>", "This replica's name in the leadership row (the pod's name)."),
        Option(
            "advertise.address",
            "127.0.0.1:<port>",
            "host:port where the region's other replicas reach this one's API port (the pod's IP)."
        ),
        Option(
            "leader.lease.seconds",
            "4",
            "How long a leader that stopped answering keeps its lock before a standby takes over (2-60)."
        ),
        Option("auth.secret", "", "The HS256 secret bearer tokens are signed with (at least 32 bytes)."),
        Option("auth.secret.file", "", "A file holding the HS256 secret (a mounted Kubernetes Secret)."),
        Option("auth.jwks.file", "", "A JWKS file of an identity provider's ES256/RS256 public keys."),
        Option("auth.issuer", "", "When set, a token's iss must equal it."),
        Option("auth.audience", "", "When set, a token's aud must include it."),
        Option("auth.cache.tokens", "100000", "The most verified tokens remembered until they expire."),
        Option(
            "auth",
            "",
            "disabled: accept every request as an operator, without a token (local experiments only)."
        ),
    ]

    /// One configuration option, for validation and `--help`.
    struct Option: Sendable {
        let key: String
        let defaultValue: String
        let summary: String

        init(_ key: String, _ defaultValue: String, _ summary: String) {
            self.key = key
            self.defaultValue = defaultValue
            self.summary = summary
        }

        var environmentVariable: String { key.uppercased().replacingOccurrences(of: ".", with: "_") }
        var flag: String { "--" + key.replacingOccurrences(of: ".", with: "-") }
    }

    /// The configuration defaults.
    init() {}

    /// Reads and validates the configuration.
    /// - Parameters:
    ///   - arguments: The command line, program name first.
    ///   - environment: The environment variables.
    /// - Throws: `ConfigurationError` naming the option and what is wrong with it.
    init(arguments: [String], environment: [String: String]) throws(ConfigurationError) {
        let knownFlags = Set(Self.options.map(\.flag))
        for argument in arguments.dropFirst() where argument.hasPrefix("--") {
            let flag = String(argument.split(separator: "=", maxSplits: 1)[0])
            guard knownFlags.contains(flag) else {
                throw ConfigurationError("unknown option \(flag); run with --help to list the options")
            }
        }
        let reader = ConfigReader(providers: [
            CommandLineArgumentsProvider(arguments: arguments),
            EnvironmentVariablesProvider(environmentVariables: environment),
        ])
        let values = ValueReader(reader: reader)

        if let host = values.string("host") {
            guard !host.isEmpty else { throw values.error("host", "must not be empty") }
            self.host = host
        }
        if let port = try values.integer("port", in: 1...65_535) { self.port = port }
        if let port = try values.integer("metrics.port", in: 0...65_535) { metricsPort = port }
        guard metricsPort != port else { throw values.error("metrics.port", "must differ from PORT (\(port))") }
        if let level = values.string("log.level") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw values.error(
                    "log.level",
                    "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(level)\""
                )
            }
            self.logLevel = parsed
        }
        if let format = values.string("log.format") {
            guard let parsed = LogFormat(rawValue: format.lowercased()) else {
                throw values.error("log.format", "must be text or json, got \"\(format)\"")
            }
            logFormat = parsed
        }
        if let storage = values.string("storage") {
            guard let parsed = Storage(rawValue: storage.lowercased()) else {
                throw values.error("storage", "must be memory or postgres, got \"\(storage)\"")
            }
            self.storage = parsed
        }
        if storage == .postgres {
            if let url = values.string("database.url"), !url.isEmpty {
                database = try DatabaseConfiguration(url: url)
            } else {
                database = try DatabaseConfiguration(environment: environment)
            }
            guard database != nil else {
                throw values.error("storage", "=postgres needs DATABASE_URL (or POSTGRES_HOST and friends)")
            }
        }
        if let seconds = try values.integer("write.timeout.seconds", in: 1...3_600) { writeTimeout = .seconds(seconds) }
        if let delay = try values.integer("shutdown.delay.seconds", in: 0...300) { shutdownDelay = .seconds(delay) }
        if let group = values.string("store.group.commit") {
            guard let parsed = Bool(group.lowercased()) else {
                throw values.error("store.group.commit", "must be true or false, got \"\(group)\"")
            }
            groupCommit = parsed
        }
        try readDispatch(values)
        try readLimits(values)
        try readAuth(values)
        try readLeadership(values)
    }

    /// The `--help` text.
    static var help: String {
        var lines = [
            "dispatch-server: the taxi dispatch HTTP service.",
            "",
            "Every option can be given as an environment variable or a flag (the flag wins):",
            "",
        ]
        for option in options {
            lines.append(
                "  \(option.flag) <value>  |  \(option.environmentVariable)  (default: \(option.defaultValue))"
            )
            lines.append("      \(option.summary)")
        }
        lines += [
            "",
            "Subcommands:",
            "  dispatch-server token --sub ID --role rider|driver|ops [--ttl 1h] [--cohort LABEL]",
            "      Prints a development token signed with AUTH_SECRET (or AUTH_SECRET_FILE).",
            "  dispatch-server replay [--ride ID] [--since TIME] [--limit N] [--verbose]",
            "      Re-runs the stored dispatch decisions from DATABASE_URL; exits 1 if one differs (--help).",
        ]
        return lines.joined(separator: "\n")
    }
}

/// A road graph read at start-up, compared by the file it came from (a configuration is compared, a
/// graph of 25,000 edges need not be).
struct RoadGraphFile: Sendable, Equatable {
    let path: String
    let graph: RoadGraph

    static func == (lhs: RoadGraphFile, rhs: RoadGraphFile) -> Bool { lhs.path == rhs.path }
}
