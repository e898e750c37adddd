import DispatchCore
import Hummingbird
import HummingbirdAuth
import HummingbirdWebSocket

/// The driver channel's route: `GET /v1/drivers/{driverId}/channel` upgrades to a WebSocket served by
/// `DriverChannel`; without an upgrade it answers `426 Upgrade Required`, and an upgrade that cannot
/// be served (a bad driver ID) arrives here as a plain request (see `EdgeServices.firstRequest`) and
/// gets the API's error.
struct DriverChannelController<Context: AuthRequestContext<Caller>> {
    let channel: DriverChannel
    let verifier: TokenVerifier
    /// A replica that does not lead serves no channel (the plain route answers `503 not_leader`).
    let leadership: Leadership

    func addRoutes(
        to router: Router<Context>,
        webSocketRouter: Router<ChannelRequestContext>,
        catalog: RouteCatalog
    ) {
        catalog.register(.get, "/v1/drivers/:driverId/channel", on: router) { _, context -> Response in
            try context.caller().mayActAs(DriverID(context.parameters.get("driverId") ?? ""))
            throw APIError(
                .upgradeRequired,
                code: "upgrade_required",
                "the driver channel is a WebSocket: connect with Upgrade: websocket"
            )
        }
        webSocketRouter.ws("/v1/drivers/:driverId/channel") { request, context in
            // Bad driver IDs and tokens never get here (the edge passes them to the plain route).
            let driver = try DriverID(context.parameters.get("driverId") ?? "")
            guard leadership.isLeader else { return .dontUpgrade }
            guard verifier.isDisabled || caller(of: request, for: driver) != nil else { return .dontUpgrade }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let raw = context.requestContext.parameters.get("driverId") ?? ""
            guard let driver = try? DriverID(raw) else { return }
            let caller = verifier.isDisabled ? Caller.unauthenticated : caller(of: context.request, for: driver)
            guard let caller else { return }
            let validity = { @Sendable [verifier] in verifier.remainingValidity(of: caller) }
            let cursor = context.request.uri.queryParameters["after"].flatMap { DriverCursor($0) }
            await withTaskExecutorPreference(EventLoopTaskExecutor(context.requestContext.eventLoop)) {
                await channel.serve(
                    driver: driver,
                    as: caller,
                    after: cursor,
                    validFor: validity,
                    inbound: inbound,
                    outbound: outbound,
                    logger: context.logger
                )
            }
        }
    }

    /// The upgrade request's caller, if its token is a verified one of `driver`.
    private func caller(of request: Request, for driver: DriverID) -> Caller? {
        guard let caller = verifier.cachedCaller(authorization: request.headers[.authorization]),
            (try? caller.mayActAs(driver)) != nil
        else { return nil }
        return caller
    }
}
