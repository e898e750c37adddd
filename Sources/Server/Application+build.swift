import DispatchCore
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
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
    /// Overrides the load signals admission control reads (tests); nil: the real probes.
    var loadSignals: (@Sendable () -> LoadSignals)?
    /// What a deposed leader does: ends the process (tests: nothing, the service stops by its error).
    var stepDown: @Sendable () -> Void = { exit(LeaderElection.deposedExitStatus) }
}

/// The parts of a running service that `main` and tests need to reach.
struct ServiceParts: Sendable {
    let dispatcher: Dispatcher
    let hub: EventHub
    let persistence: Persistence
    let connections: ConnectionBudget
    let streams: StreamLimits
    /// The fairness metrics (ticked by `FairnessTicker`; tests tick it by hand).
    let fairness: FairnessMonitor
    /// Where `/metrics` listens, once it does.
    let metricsPort: BoundPort
    /// Where the API listens, once it does.
    let apiPort: BoundPort
    /// The whole service exactly as `dispatch-server` runs it: the application behind the shutdown
    /// delay (`DispatchService`).
    let service: any Service
}

/// The application with its shutdown delay in front, as one service: on a shutdown signal, the delay
/// fails `/readyz` and waits `SHUTDOWN_DELAY_SECONDS` for load balancers to stop sending, then ends
/// the event streams; only then does the application drain its in-flight requests and stop its
/// background work (services stop in reverse order).
struct DispatchService: Service {
    let application: any Service
    let shutdownDelay: ShutdownDelayService
    let logger: Logger

    func run() async throws {
        try await ServiceGroup(
            configuration: .init(services: [application, shutdownDelay], logger: logger)
        ).run()
    }
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
    // The console's record of committed events (decisions, totals, latencies): fed with the hub.
    let opsRecorder = OpsRecorder()
    // Offers and trips by driver cohort, from committed events; cohorts from the drivers' tokens.
    let cohorts = DriverCohorts(capacity: configuration.dispatch.maximumDrivers)
    var fairnessSettings = FairnessLedger.Settings()
    fairnessSettings.cohorts = configuration.driverCohorts
    let fairness = FairnessMonitor(settings: fairnessSettings, cohorts: cohorts, clock: dependencies.clock)
    var services: [any Service] = []
    var writer: RideWriter?
    var store: PostgresRideStore?
    // With PostgreSQL a region's replicas elect one leader; in memory the process leads alone.
    let leadership =
        configuration.database == nil
        ? Leadership.alone()
        : Leadership(ownAddress: configuration.leadership.address(port: configuration.port))
    if let database = configuration.database {
        // Writes and reads have a pool each: slow or many reads never delay a commit.
        let client = PostgresClient(
            configuration: database.writerClient(lease: configuration.leadership.lease),
            backgroundLogger: logger
        )
        let readClient = PostgresClient(configuration: database.readClient, backgroundLogger: logger)
        var settings = RideWriter.Settings()
        settings.groupCommit = configuration.groupCommit
        settings.commitTimeout = configuration.commandDeadline
        // The outbox: the hub gets each batch only once it is committed.
        writer = RideWriter(
            client: client,
            settings: settings,
            outbox: EventFanOut(sinks: [hub, opsRecorder, fairness]),
            leadership: leadership,
            region: configuration.leadership.region,
            logger: logger
        )
        store = PostgresRideStore(client: client, readClient: readClient, logger: logger)
        // Services stop in reverse order: the writer flushes before the client closes.
        services += [client, readClient]
        services += writer.map { [$0] } ?? []
    }
    // With PostgreSQL the writer comes first (its receipt is the one commands wait on) and the hub
    // hears from the writer; in memory the hub hears from the dispatcher.
    let sinks: [any DispatchEventSink] = (writer.map { [$0] } ?? [hub, opsRecorder, fairness]) + [EventMetrics()]
    let dispatcher = Dispatcher(
        configuration: configuration.dispatch,
        clock: dependencies.clock,
        rideIDs: dependencies.rideIDs,
        events: EventFanOut(sinks: sinks),
        roads: configuration.roads?.graph
    )
    let persistence = Persistence(
        writer: writer,
        rides: store.map { PostgresRideRepository(hub: hub, store: $0) }
            ?? MemoryRideRepository(dispatcher: dispatcher, hub: hub, recorder: opsRecorder)
    )
    let metrics = ServiceMetrics()
    let reports = LocationReports(dispatcher: dispatcher, metrics: metrics)
    let rides = RideService(dispatcher: dispatcher, persistence: persistence)
    let offers = OfferPolls(dispatcher: dispatcher, hub: hub)
    let statuses = DriverStatusService(dispatcher: dispatcher, persistence: persistence)
    let requestMetrics = RequestMetricsRecorder()
    let lag = SchedulingLagMonitor(group: MultiThreadedEventLoopGroup.singleton)
    let admission = AdmissionControl(
        policy: configuration.admission,
        signals: dependencies.loadSignals ?? LoadSignals.reader(lag: lag, backlog: persistence.writer)
    )
    let connections = ConnectionBudget(limit: configuration.maximumConnections)
    let verifier = TokenVerifier(
        configuration: configuration.auth,
        clock: dependencies.clock,
        logger: logger,
        verified: { cohorts.note($0, cohort: $1) }
    )
    let limiter = RateLimiter(policy: configuration.rateLimits, clock: dependencies.clock)
    let streams = StreamLimits(total: configuration.maximumStreams)
    let edge = EdgeServices(
        reports: reports,
        offers: offers,
        admission: admission,
        connections: connections,
        verifier: verifier,
        limiter: limiter,
        requestMetrics: requestMetrics,
        date: HTTPDateCache(),
        leadership: leadership,
        logger: logger
    )

    let router = Router(context: DispatchRequestContext.self)
    let catalog = RouteCatalog()
    router.add(middleware: RequestMetricsMiddleware(recorder: requestMetrics))
    router.add(middleware: ErrorMiddleware(catalog: catalog))
    router.add(middleware: AdmissionMiddleware(admission: admission))
    router.add(middleware: LeadershipMiddleware(leadership: leadership))
    router.add(middleware: BearerAuthenticator(verifier: verifier))
    router.add(middleware: RateLimitMiddleware(limiter: limiter))
    router.add(middleware: RequestLogMiddleware(.debug))

    OperationsController(readiness: dependencies.readiness, leadership: leadership).addRoutes(
        to: router,
        catalog: catalog
    )
    DriverController(dispatcher: dispatcher, hub: hub, reports: reports, offers: offers, statuses: statuses).addRoutes(
        to: router,
        catalog: catalog
    )
    RideController(hub: hub, persistence: persistence, rides: rides).addRoutes(
        to: router,
        catalog: catalog
    )
    EventStreamController(dispatcher: dispatcher, hub: hub, persistence: persistence, limits: streams).addRoutes(
        to: router,
        catalog: catalog
    )
    let opsFeed = OpsFeed(
        dispatcher: dispatcher,
        recorder: opsRecorder,
        writer: writer,
        leadership: leadership,
        identity: (pod: configuration.leadership.identity, region: configuration.leadership.region)
    )
    services.append(opsFeed)
    services.append(FairnessTicker(monitor: fairness, dispatcher: dispatcher))
    ConsoleController(
        feed: opsFeed,
        dispatcher: dispatcher,
        viewers: .init(maximum: configuration.maximumOpsViewers)
    ).addRoutes(to: router, catalog: catalog)
    DecisionController(rides: persistence.rides).addRoutes(to: router, catalog: catalog)
    let channel = DriverChannel(
        dispatcher: dispatcher,
        hub: hub,
        reports: reports,
        rides: rides,
        statuses: statuses,
        limiter: limiter,
        streams: streams
    )
    let webSocketRouter = Router(context: ChannelRequestContext.self)
    DriverChannelController(channel: channel, verifier: verifier, leadership: leadership).addRoutes(
        to: router,
        webSocketRouter: webSocketRouter,
        catalog: catalog
    )

    let metricsPort = BoundPort()
    let apiPort = BoundPort()
    let metricsServer = MetricsServer(
        dispatcher: dispatcher,
        metrics: metrics,
        registry: dependencies.metricsRegistry,
        streams: streams,
        limits: CapacityLimits(
            drivers: configuration.dispatch.maximumDrivers,
            openRides: configuration.dispatch.maximumOpenRides,
            streams: configuration.maximumStreams
        )
    )
    // First, so it stops last: metrics are scraped while the API drains.
    services.insert(
        metricsServer.application(
            host: configuration.host,
            port: configuration.metricsPort,
            bound: metricsPort,
            logger: logger
        ),
        at: 0
    )
    services.append(DispatchTicker(dispatcher: dispatcher, hub: hub, metrics: metrics, logger: logger))
    // While commands cannot be made durable, dispatch is paused: no offers nobody could accept, no
    // deadline running out; when they can again, it resumes with every deadline moved by the pause.
    persistence.writer?.onHealthChange { [logger] healthy in
        if healthy {
            dispatcher.resume()
            logger.notice("dispatch resumed: commands are durable again")
        } else {
            dispatcher.pause()
            logger.warning("dispatch paused: commands cannot be made durable; offers and deadlines wait")
        }
    }
    // A ride whose creation the database refused is not dispatched (RideService answers its creator).
    persistence.writer?.onRefusedRides { ids in
        for id in ids { dispatcher.discard(id) }
    }
    services.append(lag)
    // The election, when there is a database to elect through: before the writer in the list, so that
    // at shutdown it stops after the writer's flush (services stop in reverse order), and hands over.
    let schema = Latch()
    let roleKnown = Latch()
    if let database = configuration.database, let store, let writer {
        let election = LeaderElection(
            database: database,
            leadership: leadership,
            configuration: configuration.leadership,
            address: configuration.leadership.address(port: configuration.port),
            schema: schema,
            roleKnown: roleKnown,
            takeOver: RegionTakeover(
                store: store,
                hub: hub,
                dispatcher: dispatcher,
                writer: writer,
                maximumDrivers: configuration.dispatch.maximumDrivers,
                logger: logger
            ).callAsFunction(epoch:),
            stepDown: dependencies.stepDown,
            logger: logger
        )
        services.insert(election, at: services.firstIndex { $0 is RideWriter } ?? services.endIndex)
        // A deposed leader makes no more offers (none could be committed, none would be shown).
        writer.onDeposed { dispatcher.pause() }
    }
    services.append(
        Housekeeping(
            dispatcher: dispatcher,
            verifier: verifier,
            limiter: limiter,
            clock: dependencies.clock,
            logger: logger
        )
    )
    var application = Application(
        router: router,
        server: .http1(edge: edge, webSocketRouter: webSocketRouter, writeTimeout: configuration.writeTimeout),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: HTTPDateCache.server,
            // A city's apps reconnect together after a network blip: a queue for all of them (the
            // kernel caps it at net.core.somaxconn), not 256 and dropped handshakes retried for seconds.
            backlog: 4_096,
            // Past MAX_CONNECTIONS connections are still accepted, for a 503 each (`ConnectionBudget`);
            // past the reserve above it they wait in the listen queue.
            availableConnectionsDelegate: MaximumAvailableConnections(connections.hardLimit, logger: logger)
        ),
        services: services,
        onServerRunning: { channel in
            // NIO accepts 4 connections per event loop turn by default; under load a turn takes tens of
            // milliseconds, so a crowd of apps reconnecting at once would wait seconds in the listen
            // queue with their first requests (measured: ~100 accepts/s under a 1,500-connection burst).
            try? await channel.setOption(ChannelOptions.maxMessagesPerRead, value: 256)
            if let port = channel.localAddress?.port { apiPort.set(port) }
        },
        logger: logger
    )
    if let store {
        // Before the server accepts requests: bring the schema up to date (the election waits for it),
        // then learn this replica's part: a lone replica restores the region and leads before its first
        // request, as a single process always did; a standby learns where to forward. (Bounded: with
        // PostgreSQL gone meanwhile, it listens as a standby that knows no leader, not ready.)
        application.beforeServerStarts { [logger, lease = configuration.leadership.lease] in
            let applied = try await Migrations.apply(on: store.client, logger: logger)
            if !applied.isEmpty { logger.info("migrations applied", metadata: ["migration.versions": "\(applied)"]) }
            schema.set()
            let deadline = ContinuousClock.now + lease * 2
            while !roleKnown.isSet, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        }
    }
    return (
        application,
        ServiceParts(
            dispatcher: dispatcher,
            hub: hub,
            persistence: persistence,
            connections: connections,
            streams: streams,
            fairness: fairness,
            metricsPort: metricsPort,
            apiPort: apiPort,
            service: DispatchService(
                application: application,
                shutdownDelay: ShutdownDelayService(
                    readiness: dependencies.readiness,
                    hub: hub,
                    opsFeed: opsFeed,
                    delay: configuration.shutdownDelay,
                    logger: logger
                ),
                logger: logger
            )
        )
    )
}
