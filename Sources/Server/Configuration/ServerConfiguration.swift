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

    var host = "127.0.0.1"
    var port = 8080
    /// The port of `/metrics` (`METRICS_PORT`), apart from the API's; 0: any free port (tests).
    var metricsPort = 9090
    var logLevel = Logger.Level.info
    var storage = Storage.memory
    var shutdownDelay = Duration.zero
    /// The dispatch core's settings (driver freshness, matching, offers, search).
    var dispatch = DispatchConfiguration()
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
        Option("city.speed.kmh", "25", "Average city speed used for ETAs (straight-line distance over speed)."),
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

    private mutating func readLeadership(_ values: ValueReader) throws(ConfigurationError) {
        if let region = values.string("region") {
            guard !region.isEmpty, region.utf8.count <= 63 else { throw values.error("region", "must be 1-63 bytes") }
            leadership.region = region
        }
        if let identity = values.string("leader.id"), !identity.isEmpty { leadership.identity = identity }
        if let address = values.string("advertise.address"), !address.isEmpty {
            guard StandbyForwarder.parse(address) != nil else {
                throw values.error("advertise.address", "must be host:port, got \"\(address.prefix(80))\"")
            }
            leadership.advertiseAddress = address
        }
        if let lease = try values.integer("leader.lease.seconds", in: 2...60) { leadership.lease = .seconds(lease) }
    }

    private mutating func readAuth(_ values: ValueReader) throws(ConfigurationError) {
        if let mode = values.string("auth"), !mode.isEmpty {
            guard mode.lowercased() == "disabled" else {
                throw values.error("auth", "must be empty or disabled, got \"\(mode)\"")
            }
            auth.disabled = true
        }
        var secretKey = "auth.secret"
        if let secret = values.string("auth.secret", secret: true), !secret.isEmpty {
            auth.secret = secret
        }
        if let path = values.string("auth.secret.file"), !path.isEmpty {
            guard auth.secret == nil else {
                throw values.error("auth.secret.file", "cannot be given with AUTH_SECRET: choose one")
            }
            // A mounted Secret file usually ends with a newline that is not part of the secret.
            auth.secret = try values.file("auth.secret.file", path).trimmingCharacters(in: .whitespacesAndNewlines)
            secretKey = "auth.secret.file"
        }
        if let secret = auth.secret, secret.utf8.count < AuthConfiguration.minimumSecretBytes {
            throw values.error(secretKey, "must hold at least \(AuthConfiguration.minimumSecretBytes) bytes")
        }
        if let path = values.string("auth.jwks.file"), !path.isEmpty {
            auth.jwks = try values.file("auth.jwks.file", path)
        }
        if let issuer = values.string("auth.issuer"), !issuer.isEmpty { auth.issuer = issuer }
        if let audience = values.string("auth.audience"), !audience.isEmpty { auth.audience = audience }
        if let tokens = try values.integer("auth.cache.tokens", in: 2...10_000_000) { auth.cachedTokens = tokens }
        guard auth.hasKeys || auth.disabled else {
            throw ConfigurationError(
                "bearer tokens need a key: set AUTH_SECRET, AUTH_SECRET_FILE or AUTH_JWKS_FILE "
                    + "(or AUTH=disabled for a local experiment without authentication)"
            )
        }
        if auth.hasKeys, auth.disabled {
            throw values.error(
                "auth",
                "=disabled cannot be given with a key (AUTH_SECRET, AUTH_SECRET_FILE, AUTH_JWKS_FILE)"
            )
        }
    }

    private mutating func readLimits(_ values: ValueReader) throws(ConfigurationError) {
        if let connections = try values.integer("max.connections", in: 16...1_000_000) {
            maximumConnections = connections
        }
        if let streams = try values.integer("max.streams", in: 1...1_000_000) { maximumStreams = streams }
        if let drivers = try values.integer("max.drivers", in: 1...100_000_000) { dispatch.maximumDrivers = drivers }
        if let rides = try values.integer("max.open.rides", in: 1...100_000_000) { dispatch.maximumOpenRides = rides }
        if let deadline = try values.integer("command.deadline.ms", in: 100...60_000) {
            commandDeadline = .milliseconds(deadline)
        }
        if let lag = try values.integer("overload.report.lag.ms", in: 1...60_000) {
            admission.reportLagLimit = .milliseconds(lag)
        }
        if let lag = try values.integer("overload.request.lag.ms", in: 1...60_000) {
            admission.requestLagLimit = .milliseconds(lag)
        }
        if let wait = try values.integer("overload.commit.wait.ms", in: 1...60_000) {
            admission.requestCommitLimit = .milliseconds(wait)
        }
        if let waiting = try values.integer("max.waiting.commands", in: 2...1_000_000) {
            admission.maximumWaitingCommands = waiting
        }
        if let seconds = try values.integer("overload.retry.after.seconds", in: 1...3_600) {
            admission.retryAfterSeconds = seconds
        }
        if let rate = try values.integer("rate.location.per.second", in: 1...1_000_000) {
            rateLimits.locationReports.perSecond = Double(rate)
        }
        if let burst = try values.integer("rate.location.burst", in: 1...1_000_000) {
            rateLimits.locationReports.burst = burst
        }
        if let rate = try values.integer("rate.rides.per.minute", in: 1...1_000_000) {
            rateLimits.rideRequests.perSecond = Double(rate) / 60
        }
        if let burst = try values.integer("rate.rides.burst", in: 1...1_000_000) {
            rateLimits.rideRequests.burst = burst
        }
        if let rate = try values.integer("rate.requests.per.second", in: 1...1_000_000) {
            rateLimits.requests.perSecond = Double(rate)
        }
        if let burst = try values.integer("rate.requests.burst", in: 1...1_000_000) {
            rateLimits.requests.burst = burst
        }
        if let subjects = try values.integer("rate.subjects", in: 16...100_000_000) {
            rateLimits.maximumSubjects = subjects
        }
    }

    private mutating func readDispatch(_ values: ValueReader) throws(ConfigurationError) {
        if let ttl = try values.integer("driver.ttl.seconds", in: 1...86_400) {
            dispatch.driverFreshness = .seconds(ttl)
            dispatch.driverForgetAfter = .seconds(ttl * 10)
        }
        // At least the TTL: a driver is forgotten only once it is out of every answer anyway.
        let ttl = Int(dispatch.driverFreshness.components.seconds)
        if values.string("driver.forget.seconds")?.isEmpty == false,
            let seconds = try values.integer("driver.forget.seconds", in: ttl...864_000)
        {
            dispatch.driverForgetAfter = .seconds(seconds)
        }
        if let age = try values.integer("location.max.age.ms", in: 0...86_400_000) {
            dispatch.locationMaximumAge = age == 0 ? nil : .milliseconds(age)
        }
        if let matching = values.string("matching") {
            guard let mode = MatchingMode(rawValue: matching.lowercased()) else {
                throw values.error("matching", "must be greedy or batch, got \"\(matching)\"")
            }
            dispatch.matching = mode
        }
        if let window = try values.integer("batch.window.ms", in: 10...60_000) {
            dispatch.batchWindow = .milliseconds(window)
        }
        if let timeout = try values.integer("offer.timeout.seconds", in: 1...3_600) {
            dispatch.offerTimeout = .seconds(timeout)
        }
        let maximum = Int(SpatialIndexLimits.maximumRadius)
        if let radius = try values.integer("search.radius.meters", in: 1...maximum) {
            dispatch.searchRadius = Meters(Double(radius))
        }
        if let radius = try values.integer("max.search.radius.meters", in: 1...maximum) {
            dispatch.maxSearchRadius = Meters(Double(radius))
        }
        guard dispatch.maxSearchRadius >= dispatch.searchRadius else {
            throw values.error(
                "max.search.radius.meters",
                "(\(Int(dispatch.maxSearchRadius.value))) must be at least SEARCH_RADIUS_METERS "
                    + "(\(Int(dispatch.searchRadius.value)))"
            )
        }
        if let step = try values.integer("search.radius.step.meters", in: 1...maximum) {
            dispatch.searchRadiusStep = Meters(Double(step))
        }
        if let interval = try values.integer("search.widen.interval.seconds", in: 1...3_600) {
            dispatch.searchWidenInterval = .seconds(interval)
        }
        if let timeout = try values.integer("search.timeout.seconds", in: 1...86_400) {
            dispatch.searchTimeout = .seconds(timeout)
        }
        if let factor = try values.integer("pickup.grace.factor", in: 1...20) {
            dispatch.pickupGraceFactor = Double(factor)
        }
        if let margin = try values.integer("pickup.grace.seconds", in: 0...86_400) {
            dispatch.pickupGraceMargin = .seconds(margin)
        }
        if let ttl = try values.integer("assigned.driver.ttl.seconds", in: 10...86_400) {
            dispatch.assignedDriverTTL = .seconds(ttl)
        }
        if let trip = try values.integer("max.trip.seconds", in: 60...604_800) {
            dispatch.maximumTripDuration = .seconds(trip)
        }
        if let area = values.string("service.area"), !area.isEmpty {
            do {
                dispatch.serviceArea = try ServiceArea(parsing: area)
            } catch {
                throw values.error(
                    "service.area",
                    "must be minLat,minLng,maxLat,maxLng with min below max, got \"\(area)\""
                )
            }
        }
        if let speed = try values.integer("city.speed.kmh", in: 1...200) {
            dispatch.citySpeedKilometersPerHour = Double(speed)
        }
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
        return lines.joined(separator: "\n")
    }
}

/// The spatial index's radius limit, for validating search radii.
private enum SpatialIndexLimits {
    static let maximumRadius = SpatialIndex<DriverID>.maximumRadius.value
}

/// Reads raw option values and words errors with the option's variable and flag.
private struct ValueReader {
    let reader: ConfigReader

    func string(_ key: String, secret: Bool = false) -> String? {
        reader.string(forKey: ConfigKey(key.split(separator: ".").map(String.init)), isSecret: secret)
    }

    /// The contents of the file an option names.
    func file(_ key: String, _ path: String) throws(ConfigurationError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw self.error(key, "names a file that cannot be read: \(path)")
        }
    }

    func error(_ key: String, _ problem: String) -> ConfigurationError {
        let option = ServerConfiguration.options.first { $0.key == key }
        let name = option.map { "\($0.environmentVariable) / \($0.flag)" } ?? key
        return ConfigurationError(problem.hasPrefix("=") ? "\(name)\(problem)" : "\(name) \(problem)")
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = string(key) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw error(key, "must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return number
    }
}

/// A configuration value that cannot be used; the server prints it and exits with status 2.
struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    let message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
