import DispatchCore
import Hummingbird
import HummingbirdWebSocket

/// The driver channel's route: `GET /v1/drivers/{driverId}/channel` upgrades to a WebSocket served by
/// `DriverChannel`; without an upgrade it answers `426 Upgrade Required`, and an upgrade that cannot
/// be served (a bad driver ID) arrives here as a plain request (see `EdgeServices.firstRequest`) and
/// gets the API's error.
struct DriverChannelController<Context: RequestContext> {
    let channel: DriverChannel

    func addRoutes(
        to router: Router<Context>,
        webSocketRouter: Router<ChannelRequestContext>,
        catalog: RouteCatalog
    ) {
        catalog.register(.get, "/v1/drivers/:driverId/channel", on: router) { _, context -> Response in
            _ = try DriverID(context.parameters.get("driverId") ?? "")
            throw APIError(
                .upgradeRequired,
                code: "upgrade_required",
                "the driver channel is a WebSocket: connect with Upgrade: websocket"
            )
        }
        webSocketRouter.ws("/v1/drivers/:driverId/channel") { _, context in
            // Bad driver IDs never get here (the edge passes them to the plain route).
            _ = try DriverID(context.parameters.get("driverId") ?? "")
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let raw = context.requestContext.parameters.get("driverId") ?? ""
            guard let driver = try? DriverID(raw) else { return }
            let cursor = context.request.uri.queryParameters["after"].flatMap { DriverCursor($0) }
            await withTaskExecutorPreference(EventLoopTaskExecutor(context.requestContext.eventLoop)) {
                await channel.serve(
                    driver: driver,
                    after: cursor,
                    inbound: inbound,
                    outbound: outbound,
                    logger: context.logger
                )
            }
        }
    }
}
