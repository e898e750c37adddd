import Foundation
import Geo
import LoadTestKit
import NIOCore
import NIOHTTP1
import Synchronization

/// The drivers: a ticker advances the simulated fleet and sends what it asks for; drivers with an
/// event stream learn of offers there, the others poll.
extension LoadTest {
    /// The fleet's tick: short, so reports leave close to their times rather than in bursts.
    static let tickInterval = 0.005

    func runFleet(firehose: PipelinedClient) async {
        var longestTick = (seconds: 0.0, actions: 0, at: 0.0)
        defer {
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "fleet ticker: longest tick %.1f ms (%d actions, at %.1f s)\n",
                        longestTick.seconds * 1000,
                        longestTick.actions,
                        longestTick.at
                    ).utf8
                )
            )
        }
        await withDiscardingTaskGroup { group in
            var tick = now()
            while !world.withLock({ $0.stopping }) {
                let sentAt = now()
                let (actions, newStreams) = world.withLock { world in
                    let actions = world.fleet.tick(now: sentAt)
                    let streams = world.streamsToOpen
                    world.streamsToOpen.removeAll()
                    return (actions, streams)
                }
                for action in actions {
                    if case .call = action {
                        group.addTask { await self.perform(action, sentAt: sentAt, firehose: firehose) }
                    } else {
                        await perform(action, sentAt: sentAt, firehose: firehose)
                    }
                }
                if !newStreams.isEmpty {
                    let tasks = newStreams.map { driverID in
                        Task { await self.listen(asDriver: driverID, firehose: firehose) }
                    }
                    driverStreams.withLock { $0.append(contentsOf: tasks) }
                }
                let busy = now() - sentAt
                if busy > longestTick.seconds { longestTick = (busy, actions.count, sentAt) }
                tick += Self.tickInterval
                try? await sleep(until: tick)
                let late = now() - tick
                world.withLock { $0.recorder.tickLagged(late) }
                // A stalled ticker catches up at once rather than in a burst of ticks.
                if late > Self.tickInterval { tick = now() }
            }
            // Leaving the group waits for the calls in flight.
        }
    }

    func perform(_ action: FleetAction, sentAt: Double, firehose: PipelinedClient) async {
        switch action {
        case .report(let driverID, let position):
            if world.withLock({ $0.fleet.driver(driverID)?.transport == .channel }) {
                sendReport(driverID, position, dueAt: sentAt)
                return
            }
            let recordedAt = RFC3339.format(secondsSince1970: startWallClock + sentAt)
            firehose.send(
                PipelinedRequest(
                    kind: .report,
                    driverID: driverID,
                    method: .PUT,
                    uri: "/v1/drivers/\(driverID)/location",
                    body: #"{"lat":\#(position.latitude),"lng":\#(position.longitude),"recordedAt":"\#(recordedAt)"}"#,
                    dueAt: sentAt,
                    authorization: client.credentials.cached(.driver(driverID))
                )
            )
        case .pollOffer(let driverID):
            world.withLock { $0.recorder.count(.offerPolls) }
            firehose.send(offerRequest(driverID, dueAt: sentAt))
        case .call(let call, let driverID, let rideID):
            if world.withLock({ $0.fleet.driver(driverID)?.transport == .channel }) {
                sendCall(call, rideID: rideID, from: driverID, sentAt: sentAt)
                return
            }
            let body = DispatchClient.json(["driverId": driverID])
            let outcome = record(
                await client.call(
                    .POST,
                    "/v1/rides/\(rideID)/\(call.rawValue)",
                    as: .driver(driverID),
                    json: body,
                    pool: .drivers
                ),
                endpoint: "POST /v1/rides/{id}/\(call.rawValue)",
                sentAt: sentAt
            )
            let succeeded = if case .success = outcome { true } else { false }
            let finishedAt = now()
            world.withLock { world in
                if call == .decline, succeeded { world.recorder.count(.offersDeclined) }
                world.fleet.finished(call, rideID: rideID, by: driverID, succeeded: succeeded, now: finishedAt)
            }
        }
    }

    func offerRequest(_ driverID: String, dueAt: Double) -> PipelinedRequest {
        PipelinedRequest(
            kind: .poll,
            driverID: driverID,
            method: .GET,
            uri: "/v1/drivers/\(driverID)/offer",
            body: nil,
            dueAt: dueAt,
            authorization: client.credentials.cached(.driver(driverID))
        )
    }

    /// The answer to a location report or an offer request (on the pipelined client's event loop).
    func answered(_ request: PipelinedRequest, status: Int?, body: ByteBuffer?, latency: Double) {
        let endpoint = request.kind == .report ? "PUT /v1/drivers/{id}/location" : "GET /v1/drivers/{id}/offer"
        let expected: Set<Int> = request.kind == .report ? [204] : [200, 204]
        let offer =
            status == 200
            ? body.flatMap { try? JSONDecoder().decode(Wire.Offer.self, from: Data($0.readableBytesView)) } : nil
        let now = now()
        world.withLock { world in
            world.recorder.call(endpoint, latency: latency)
            guard let status, expected.contains(status) else {
                if status == 503, let body,
                    DispatchClient.refusedUpFront.contains(where: { String(buffer: body).contains(#""code":"\#($0)""#) }
                    )
                {
                    world.recorder.shed(endpoint)
                    return
                }
                let kind = status.map { "\(endpoint) \($0)" } ?? "transport: \(endpoint) connection closed"
                if !world.stopping { unanswered(kind, at: request.dueAt - scenario.warmupSeconds, in: &world) }
                return
            }
            switch request.kind {
            case .report:
                world.recorder.locationUpdated(at: request.dueAt - scenario.warmupSeconds, latency: latency)
                let driverID = request.driverID
                if world.fleet.driver(driverID)?.streams == true, world.streamOpened.insert(driverID).inserted {
                    world.streamsToOpen.append(driverID)
                }
            case .poll:
                guard let offer,
                    let pickup = try? Coordinate(latitude: offer.pickup.lat, longitude: offer.pickup.lng),
                    let dropoff = try? Coordinate(latitude: offer.dropoff.lat, longitude: offer.dropoff.lng)
                else { return }
                let taken = world.fleet.offered(
                    SimOffer(rideID: offer.rideId, pickup: pickup, dropoff: dropoff),
                    to: request.driverID,
                    now: now
                )
                guard taken else { return }
                world.recorder.count(.offersSeen)
                if case .considering(_, _, .ignore) = world.fleet.driver(request.driverID)?.phase {
                    world.recorder.count(.offersIgnored)
                }
            }
        }
    }

    /// A driver app's event stream: an offer for this driver is fetched (the event names the ride, the
    /// offer has its pickup and drop-off); the end of a ride the driver was given frees it. Reconnects
    /// after a second if the server closes the stream.
    func listen(asDriver driverID: String, firehose: PipelinedClient) async {
        while !Task.isCancelled {
            let problem = await client.stream("/v1/drivers/\(driverID)/events", as: .driver(driverID)) { event in
                guard let data = event.data.data(using: .utf8),
                    let payload = try? JSONDecoder().decode(Wire.RideEvent.self, from: data)
                else { return true }
                if payload.type == "ride_offered", payload.offer?.driverId == driverID {
                    firehose.send(offerRequest(driverID, dueAt: now()))
                } else if Self.endings.contains(payload.type) {
                    let at = now()
                    world.withLock { $0.fleet.rideEnded(payload.rideId, for: driverID, now: at) }
                }
                return !Task.isCancelled
            }
            if Task.isCancelled { return }
            world.withLock { world in
                world.recorder.count(.streamReconnects)
                if let problem { unanswered("driver stream: \(problem)", at: runSecond(), in: &world) }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
