import Foundation
import Geo
import LoadTestKit
import NIOHTTP1
import Synchronization

/// The riders: requests at the arrival process's times, each rider watching its ride's stream and
/// sometimes cancelling.
extension LoadTest {
    /// A ride request, fixed before it is sent.
    struct Request: Sendable {
        var number: Int
        /// Seconds after the first request was due.
        var at: Double
        var pickup: Coordinate
        var dropoff: Coordinate
        /// When the rider will cancel, if it does.
        var cancelAfter: Double?
    }

    /// Sends every request on schedule, then waits for the rides to end or the drain to run out; a
    /// signal (SIGINT, SIGTERM) ends both at once.
    /// - Parameter beforeStopping: Runs after the drain, before the riders' streams are cancelled.
    /// - Returns: The second of the run (from the first request's time) at which requests stopped:
    ///   after the last one, or at the signal.
    func runRiders(beforeStopping: () async -> Void) async -> Double {
        var arrivals = ArrivalProcess(profile: scenario.rateProfile, seed: scenario.seed)
        var random = SplitMix64(seed: scenario.seed &+ 0x5EED)
        let drainDeadline = scenario.warmupSeconds + scenario.durationSeconds + scenario.drainSeconds
        return await withDiscardingTaskGroup { group in
            var number = 0
            var sendingStopped = scenario.durationSeconds
            while let at = arrivals.next() {
                let pickup = city.pickup(&random)
                let trip = random.uniform(scenario.tripMinMeters...scenario.tripMaxMeters)
                let request = Request(
                    number: number,
                    at: at,
                    pickup: pickup,
                    dropoff: city.dropoff(from: pickup, tripMeters: trip, &random),
                    cancelAfter: random.chance(scenario.cancelProbability)
                        ? random.uniform(0.5...scenario.cancelWithinSeconds) : nil
                )
                number += 1
                guard await pause(until: scenario.warmupSeconds + at) else {
                    sendingStopped = runSecond()
                    break
                }
                group.addTask { await self.ride(request) }
            }
            // All sent: wait for the rides in flight to end, or give up at the drain's deadline.
            while now() < drainDeadline, !trap.isInterrupted, world.withLock({ $0.consistency.openCount }) > 0 {
                try? await Task.sleep(for: .milliseconds(200))
            }
            await beforeStopping()
            group.cancelAll()
            return sendingStopped
        }
    }

    /// One rider: request, watch the ride's stream to its end, cancel if it was going to.
    func ride(_ request: Request) async {
        let sentAt = now()
        let lag = runSecond() - request.at
        world.withLock { world in
            world.recorder.requested(at: request.at)
            world.recorder.lagged(lag)
        }
        let riderID = "lt-\(runID)-r\(request.number)"
        let body = DispatchClient.json(
            Wire.CreateRide(
                riderId: riderID,
                pickup: Wire.LatLng(lat: request.pickup.latitude, lng: request.pickup.longitude),
                dropoff: Wire.LatLng(lat: request.dropoff.latitude, lng: request.dropoff.longitude)
            )
        )
        let outcome = record(
            await client.call(
                .POST,
                "/v1/rides",
                as: .rider(riderID),
                json: body,
                headers: [("Idempotency-Key", "\(runID)-\(request.number)")],
                expected: [201]
            ),
            endpoint: "POST /v1/rides",
            sentAt: sentAt
        )
        guard case .success(_, let responseBody) = outcome,
            let created = try? JSONDecoder().decode(Wire.Ride.self, from: responseBody)
        else { return }
        world.withLock { world in
            world.recorder.count(.acknowledged)
            world.consistency.acknowledged(created.id, status: created.status)
        }
        await withTaskGroup(of: Void.self) { group in
            if let cancelAfter = request.cancelAfter {
                group.addTask {
                    try? await self.sleep(until: self.scenario.warmupSeconds + request.at + cancelAfter)
                    guard !Task.isCancelled else { return }
                    await self.cancel(created.id, riderID: riderID)
                }
            }
            await watch(created.id, as: riderID, request: request)
            // The stream ended (the ride did, or the run's drain ran out): a pending cancel goes too.
            group.cancelAll()
        }
    }

    /// Follows the ride's stream until its final event, reconnecting if the server closes it early
    /// (the stream replays from the first event; what was already seen is skipped).
    func watch(_ rideID: String, as riderID: String, request: Request) async {
        var lastSequence = 0
        var requestedAt: Double?
        var matched = false
        var accepted = false
        var ended = false
        var attempts = 0
        // Through a failover the stream is reopened for as long as the ride's events can take to resume.
        while !ended, !Task.isCancelled, attempts < (retriesFailovers ? 150 : 5) {
            attempts += 1
            let problem = await client.stream("/v1/rides/\(rideID)/events", as: .rider(riderID)) { event in
                guard let data = event.data.data(using: .utf8),
                    let payload = try? JSONDecoder().decode(Wire.RideEvent.self, from: data),
                    payload.sequence > lastSequence
                else { return true }
                lastSequence = payload.sequence
                let latency = runSecond() - request.at
                let at = Timestamp.seconds(payload.at)
                world.withLock { world in
                    world.consistency.saw(
                        rideID,
                        sequence: payload.sequence,
                        type: payload.type,
                        status: payload.status,
                        driverID: payload.driverId ?? payload.offer?.driverId,
                        at: at
                    )
                    switch payload.type {
                    case "ride_requested":
                        requestedAt = at
                    case "ride_offered":
                        if world.matching.isEmpty, let mode = payload.offer?.matching { world.matching = mode }
                        // Offered at once: by its first search (immediately with greedy matching, at the
                        // end of the window with batch), within 0.9 s of the request by the server's clock;
                        // a ride that found no free driver is looked at again a second later.
                        let atOnce = requestedAt.map { at - $0 < 0.9 } ?? false
                        if !matched {
                            world.recorder.matched(requestedAt: request.at, latency: latency, atOnce: atOnce)
                        }
                        matched = true
                    case "ride_accepted":
                        if !accepted {
                            world.recorder.accepted(latency: latency, pickupMeters: payload.pickupDistanceMeters)
                        }
                        accepted = true
                    case "ride_completed": world.recorder.count(.completed)
                    case "ride_cancelled": world.recorder.count(.cancelledByRider)
                    case "ride_unfulfilled": world.recorder.count(.unfulfilled)
                    default: break
                    }
                    if ConsistencyCheck.finalStatuses.contains(payload.status) {
                        ended = true
                    }
                }
                return !ended
            }
            if !ended, !Task.isCancelled {
                world.withLock { world in
                    world.recorder.count(.streamReconnects)
                    if let problem { unanswered("ride stream: \(problem)", at: runSecond(), in: &world) }
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// The rider gives up, unless the trip already started (then the server answers 409).
    func cancel(_ rideID: String, riderID: String) async {
        let status = world.withLock { $0.consistency.rides[rideID]?.status }
        guard let status, ["requested", "offered", "accepted", "arrived"].contains(status) else { return }
        let sentAt = now()
        _ = record(
            await client.call(
                .POST,
                "/v1/rides/\(rideID)/cancel",
                as: .rider(riderID),
                json: DispatchClient.json(["riderId": riderID])
            ),
            endpoint: "POST /v1/rides/{id}/cancel",
            sentAt: sentAt
        )
    }
}

/// Server timestamps (RFC 3339 with fractional seconds) as seconds since 1970.
enum Timestamp {
    static func seconds(_ text: String) -> Double {
        let formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let date = try? formatter.parse(text) { return date.timeIntervalSince1970 }
        return (try? Date.ISO8601FormatStyle().parse(text))?.timeIntervalSince1970 ?? 0
    }
}
