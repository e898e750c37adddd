import DispatchCore
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// What `buildApplication` needs from outside the configuration: the clock and the metrics registry
/// are injected so tests control time and read metrics.
struct ApplicationDependencies: Sendable {
    var clock: any DispatchClock = SystemClock()
    var metricsRegistry = PrometheusMetricsFactory.defaultRegistry
    var readiness = Readiness()
    var logger = Logger(label: "dispatch-server")
}

/// Wires the routes, middleware and background services of `dispatch-server`.
/// - Parameters:
///   - configuration: The validated configuration.
///   - dependencies: Clock, metrics registry, readiness and logger.
/// - Returns: The Hummingbird application, ready to run (or to test with HummingbirdTesting).
func buildApplication(
    configuration: ServerConfiguration,
    dependencies: ApplicationDependencies = ApplicationDependencies()
) -> some ApplicationProtocol {
    var logger = dependencies.logger
    logger.logLevel = configuration.logLevel
    let dispatcher = Dispatcher(configuration: configuration.dispatcher, clock: dependencies.clock)
    let metrics = ServiceMetrics()

    let router = Router(context: DispatchRequestContext.self)
    let catalog = RouteCatalog()
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ErrorMiddleware(catalog: catalog))
    router.add(middleware: LogRequestsMiddleware(.debug))

    OperationsController(
        dispatcher: dispatcher,
        readiness: dependencies.readiness,
        metrics: metrics,
        registry: dependencies.metricsRegistry
    ).addRoutes(to: router, catalog: catalog)
    DriverController(dispatcher: dispatcher, metrics: metrics).addRoutes(to: router, catalog: catalog)

    return Application(
        router: router,
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "dispatch-server"
        ),
        services: [
            DriverExpiryService(dispatcher: dispatcher, metrics: metrics, interval: .seconds(1), logger: logger)
        ],
        logger: logger
    )
}
