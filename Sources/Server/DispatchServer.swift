import DispatchCore
import Foundation
import Geo
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `dispatch-server`: reads the configuration, bootstraps logging and metrics, and runs until SIGTERM
/// or SIGINT, then drains in-flight requests and exits 0.
@main
enum DispatchServer {
    static func main() async {
        Allocator.limitHeaps()
        let arguments = CommandLine.arguments
        if arguments.count > 1, arguments[1] == "token" {
            exit(
                await TokenCommand.run(
                    arguments: Array(arguments.dropFirst(2)),
                    environment: ProcessInfo.processInfo.environment
                )
            )
        }
        if arguments.count > 1, arguments[1] == "replay" {
            exit(
                await ReplayCommand.run(
                    arguments: Array(arguments.dropFirst(2)),
                    environment: ProcessInfo.processInfo.environment
                )
            )
        }
        if arguments.contains("--help") || arguments.contains("-h") {
            print(ServerConfiguration.help)
            return
        }
        if arguments.contains("--version") {
            print("dispatch-server \(BuildInfo.version)")
            return
        }
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration(
                arguments: arguments,
                environment: ProcessInfo.processInfo.environment
            )
        } catch {
            FileHandle.standardError.write(Data("dispatch-server: configuration error: \(error)\n".utf8))
            exit(2)
        }

        let level = configuration.logLevel
        switch configuration.logFormat {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory.dispatchService(registry: registry))

        let logger = Logger(label: "dispatch-server")
        if configuration.auth.disabled {
            logger.warning("AUTH=disabled: requests are not authenticated; every caller acts as an operator")
        } else {
            do {
                _ = try await TokenVerifier.keyCollection(configuration.auth)
            } catch {
                FileHandle.standardError.write(
                    Data("dispatch-server: configuration error: AUTH_JWKS_FILE holds no usable key: \(error)\n".utf8)
                )
                exit(2)
            }
        }
        let readiness = Readiness()
        let (_, parts) = buildApplication(
            configuration: configuration,
            dependencies: ApplicationDependencies(metricsRegistry: registry, readiness: readiness, logger: logger)
        )
        // Exactly what the tests run: the application behind its shutdown delay (`DispatchService`).
        let group = ServiceGroup(
            configuration: .init(
                services: [parts.service],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            logger.info(
                "starting",
                metadata: [
                    "http.host": "\(configuration.host)", "http.port": "\(configuration.port)",
                    "metrics.port": "\(configuration.metricsPort)",
                    "storage": "\(configuration.storage.rawValue)",
                    "matching": "\(configuration.dispatch.matching.rawValue)",
                    "ranking": "\(configuration.dispatch.ranking.rawValue)",
                    "roads":
                        "\(configuration.roads.map { "\($0.path) (\($0.graph.nodeCount) nodes, \($0.graph.edgeCount) edges)" } ?? "none")",
                    "database": "\(configuration.database?.description ?? "none")",
                    "auth":
                        "\(configuration.auth.disabled ? "disabled" : configuration.auth.jwks != nil ? "jwks" : "hs256")",
                ]
            )
            try await group.run()
            logger.info("stopped cleanly")
        } catch {
            logger.critical("stopped with an error", metadata: ["error": "\(String(reflecting: error))"])
            exit(1)
        }
    }
}
