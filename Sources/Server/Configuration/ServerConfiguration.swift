import Configuration
import DispatchCore
import Foundation
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
        /// PostgreSQL: arrives with the persistence work (issue #4).
        case postgres
    }

    var host = "127.0.0.1"
    var port = 8080
    var logLevel = Logger.Level.info
    var storage = Storage.memory
    var driverTTL = Duration.seconds(30)
    var shutdownDelay = Duration.zero

    /// The documented options, in `--help` order.
    static let options: [Option] = [
        Option(key: "host", defaultValue: "127.0.0.1", summary: "Address to listen on."),
        Option(key: "port", defaultValue: "8080", summary: "TCP port to listen on (1-65535)."),
        Option(
            key: "log.level",
            defaultValue: "info",
            summary: "trace, debug, info, notice, warning, error or critical."
        ),
        Option(
            key: "storage",
            defaultValue: "memory",
            summary: "Where rides are kept: memory (postgres arrives with issue #4)."
        ),
        Option(
            key: "driver.ttl.seconds",
            defaultValue: "30",
            summary: "Seconds after its last location report that a driver drops out of every answer."
        ),
        Option(
            key: "shutdown.delay.seconds",
            defaultValue: "0",
            summary: "On SIGTERM, seconds to answer /readyz with 503 before draining (let load balancers notice)."
        ),
    ]

    /// One configuration option, for validation and `--help`.
    struct Option: Sendable {
        let key: String
        let defaultValue: String
        let summary: String

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
        func value(_ key: String) -> String? {
            reader.string(forKey: ConfigKey(key.split(separator: ".").map(String.init)))
        }
        func option(_ key: String) -> Option? {
            Self.options.first { $0.key == key }
        }
        func describe(_ key: String) -> String {
            option(key).map { "\($0.environmentVariable) / \($0.flag)" } ?? key
        }
        func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
            guard let text = value(key) else { return nil }
            guard let number = Int(text), range.contains(number) else {
                throw ConfigurationError(
                    "\(describe(key)) must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\""
                )
            }
            return number
        }

        if let host = value("host") {
            guard !host.isEmpty else { throw ConfigurationError("\(describe("host")) must not be empty") }
            self.host = host
        }
        if let port = try integer("port", in: 1...65_535) { self.port = port }
        if let level = value("log.level") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw ConfigurationError(
                    "\(describe("log.level")) must be one of "
                        + "\(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(level)\""
                )
            }
            self.logLevel = parsed
        }
        if let storage = value("storage") {
            guard let parsed = Storage(rawValue: storage.lowercased()) else {
                throw ConfigurationError("\(describe("storage")) must be memory or postgres, got \"\(storage)\"")
            }
            guard parsed == .memory else {
                throw ConfigurationError(
                    "\(describe("storage"))=postgres is not available yet (it arrives with the persistence work); "
                        + "use memory"
                )
            }
            self.storage = parsed
        }
        if let ttl = try integer("driver.ttl.seconds", in: 1...86_400) { self.driverTTL = .seconds(ttl) }
        if let delay = try integer("shutdown.delay.seconds", in: 0...300) { self.shutdownDelay = .seconds(delay) }
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

    /// The dispatch core's settings derived from this configuration.
    var dispatcher: Dispatcher.Configuration {
        Dispatcher.Configuration(driverFreshness: driverTTL)
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
