import DispatchCore
import Foundation
import Hummingbird
import HummingbirdAuth
import NIOCore

/// The live event streams, as Server-Sent Events (`text/event-stream`).
///
/// Each event is written as `id: <sequence>`, `event: <type>` and `data: <json>`; an idle stream gets a
/// comment (`: keep-alive`) every 15 seconds. A client that cannot keep up is disconnected (see
/// `EventHub`) and can reconnect: a ride's stream always starts from the ride's first event.
struct EventStreamController<Context: AuthRequestContext<Caller>> {
    let dispatcher: Dispatcher
    let hub: EventHub
    let persistence: Persistence
    /// At most two streams per subject, and `MAX_STREAMS` in all.
    let limits: StreamLimits

    func addRoutes(to router: Router<Context>, catalog: RouteCatalog) {
        catalog.register(.get, "/v1/rides/:rideId/events", on: router, use: rideEvents)
        catalog.register(.get, "/v1/drivers/:driverId/events", on: router, use: driverEvents)
    }

    /// `GET /v1/rides/{rideId}/events`: every event of the ride from the first, then live; the stream
    /// ends after the ride's final event.
    @Sendable func rideEvents(_ request: Request, context: Context) async throws -> Response {
        let id = try RideID(context.parameters.get("rideId") ?? "")
        let caller = try context.caller()
        // Someone else's ride answers exactly as one that does not exist.
        guard let ride = try await persistence.rides.ride(id), caller.maySee(ride, in: hub) else {
            throw DispatchError(.rideNotFound, "no ride with ID \(id)")
        }
        return try await stream(for: caller) { () async throws -> AsyncStream<StreamItem> in
            guard let events = try await persistence.rides.events(of: ride.id) else {
                throw DispatchError(.rideNotFound, "no ride with ID \(id)")
            }
            return events
        }
    }

    /// `GET /v1/drivers/{driverId}/events`: offers made to the driver and the events of its rides, live;
    /// with `Last-Event-ID` (an event's `id:`), first the events missed since, when still kept.
    @Sendable func driverEvents(_ request: Request, context: Context) async throws -> Response {
        let id = try DriverID(context.parameters.get("driverId") ?? "")
        try context.caller().mayActAs(id)
        guard dispatcher.driver(id) != nil else {
            throw DispatchError(.driverNotFound, "driver \(id) has never reported a location")
        }
        let cursor = request.headers.first { $0.name.canonicalName == "last-event-id" }.flatMap {
            DriverCursor($0.value)
        }
        return try await stream(for: try context.caller()) { hub.subscribe(toDriver: id, after: cursor).stream }
    }

    /// A stream's response, counted against `limits` before anything is subscribed: the subject's
    /// oldest stream beyond two is closed, and past `MAX_STREAMS` the answer is `503`.
    private func stream(
        for caller: Caller,
        subscribe: () async throws -> AsyncStream<StreamItem>
    ) async throws -> Response {
        let ticket = try limits.open(for: caller)
        let upstream: AsyncStream<StreamItem>
        do {
            upstream = try await subscribe()
        } catch {
            limits.release(ticket)
            throw error
        }
        let (stream, continuation) = AsyncStream.makeStream(
            of: StreamItem.self,
            bufferingPolicy: .bufferingOldest(EventHub.bufferLimit)
        )
        let forward = Task {
            for await item in upstream {
                // A full buffer is a client that cannot keep up: it is disconnected, as the hub would.
                guard case .enqueued = continuation.yield(item) else { break }
            }
            continuation.finish()
        }
        continuation.onTermination = { [limits] _ in
            forward.cancel()
            limits.release(ticket)
        }
        ticket.onClose { continuation.finish() }
        return Self.response(streaming: stream)
    }

    static func response(streaming stream: AsyncStream<StreamItem>) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                // A write fails once the client has gone; leaving the loop ends the subscription.
                for await item in stream {
                    try await writer.write(ByteBuffer(string: encode(item)))
                }
                try await writer.finish(nil)
            }
        )
    }

    /// One item in the Server-Sent Events wire format.
    static func encode(_ item: StreamItem) -> String {
        switch item {
        case .keepalive:
            return ": keep-alive\n\n"
        case .stored(let event):
            return "id: \(event.sequence)\nevent: \(event.type)\ndata: \(event.payload)\n\n"
        case .event(let event):
            return "id: \(event.sequence)\nevent: \(event.kind.rawValue)\ndata: \(RideEventPayload.json(event))\n\n"
        case .driverEvent(let event, let cursor):
            return "id: \(cursor)\nevent: \(event.kind.rawValue)\ndata: \(RideEventPayload.json(event))\n\n"
        }
    }

}
