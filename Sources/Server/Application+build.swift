import DispatchCore
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// What `buildApplication` needs from outside the configuration: the clock, ride IDs and the metrics
/// registry are injected so tests control time, IDs and read metrics.
struct ApplicationDependencies: Sendable {
    var clock: any DispatchClock = SystemClock()
    var rideIDs: any RideIDGenerator = UUIDRideIDGenerator()
    var metricsRegistry = PrometheusMetricsFactory.defaultRegistry
    var readiness = Readiness()
    var logger = Logger(label: "dispatch-server")
}

/// The parts of a running service that `main` and tests need to reach.
struct ServiceParts: Sendable {
    let dispatcher: Dispatcher
    let hub: EventHub
}

/// Wires the routes, middleware and background services of `dispatch-server`.
/// - Parameters:
///   - configuration: The validated configuration.
///   - dependencies: Clock, ride IDs, metrics registry, readiness and logger.
/// - Returns: The Hummingbird application, ready to run (or to test with HummingbirdTesting), and the
///   parts shutdown needs.
func buildApplication(
    configuration: ServerConfiguration,
    dependencies: ApplicationDependencies = ApplicationDependencies()
) -> (application: some ApplicationProtocol, parts: ServiceParts) {
    var logger = dependencies.logger
    logger.logLevel = configuration.logLevel
    let hub = EventHub(retention: configuration.dispatch.finishedRideRetention)
    let dispatcher = Dispatcher(
        configuration: configuration.dispatch,
        clock: dependencies.clock,
        rideIDs: dependencies.rideIDs,
        events: EventFanOut(sinks: [hub, EventMetrics()])
    )
    let metrics = ServiceMetrics()

    let router = Router(context: DispatchRequestContext.self)
    let catalog = RouteCatalog()
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ErrorMiddleware(catalog: catalog))
    router.add(middleware: LogRequestsMiddleware(.debug))

    OperationsController(
        dispatcher: dispatcher,
        hub: hub,
        readiness: dependencies.readiness,
        metrics: metrics,
        registry: dependencies.metricsRegistry
    ).addRoutes(to: router, catalog: catalog)
    DriverController(dispatcher: dispatcher, metrics: metrics).addRoutes(to: router, catalog: catalog)
    RideController(dispatcher: dispatcher).addRoutes(to: router, catalog: catalog)
    EventStreamController(dispatcher: dispatcher, hub: hub).addRoutes(to: router, catalog: catalog)

    let application = Application(
        router: router,
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "dispatch-server"
        ),
        services: [DispatchTicker(dispatcher: dispatcher, hub: hub, metrics: metrics, logger: logger)],
        logger: logger
    )
    return (application, ServiceParts(dispatcher: dispatcher, hub: hub))
}
