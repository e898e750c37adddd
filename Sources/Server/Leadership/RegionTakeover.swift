import DispatchCore
import Logging

/// What a replica does when it begins a term, before it leads: restores the region from what is
/// stored (the same recovery as a restart). Unfinished rides come back with their timers (an offer
/// still pending keeps its driver and its deadline, or expires at once and goes to the next driver),
/// drivers who went offline stay offline, and the writer may take commands. Drivers' locations are
/// not stored: the index fills from their next reports (every few seconds), and until then a ride
/// request finds fewer drivers, or none, and searches on.
struct RegionTakeover: Sendable {
    let store: PostgresRideStore
    let hub: EventHub
    let dispatcher: Dispatcher
    let writer: RideWriter
    let maximumDrivers: Int
    let logger: Logger

    func callAsFunction(epoch: Int64) async throws {
        let unfinished = try await store.unfinishedRides()
        // Stored, so visible: reads and authorisation see the restored rides at once.
        _ = hub.publish(EventBatch(events: [], rides: unfinished))
        for problem in dispatcher.restore(unfinished) {
            logger.error("a stored ride could not be restored", metadata: ["problem": "\(problem)"])
        }
        hub.forget(unfinished.map(\.id).filter { dispatcher.ride($0) == nil })
        logger.info("rides restored", metadata: ["rides.count": "\(unfinished.count)", "leadership.epoch": "\(epoch)"])
        let offline = try await store.offlineDrivers(limit: maximumDrivers)
        dispatcher.rememberOffline(offline)
        logger.info("offline drivers remembered", metadata: ["drivers.count": "\(offline.count)"])
        writer.markHealthy(true)
        // What the restore wrote (each offered ride's search_resumed) is committed, so shown, before
        // the first request: a client never sees the last term's state of a ride (not waiting past
        // COMMAND_DEADLINE_MS: a slow commit still lands, a little later).
        try? await writer.waitUntilDurable(writer.newestReceipt)
    }
}
