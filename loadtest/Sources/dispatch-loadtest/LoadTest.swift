import Foundation
import Geo
import LoadTestKit
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// What the runner's tasks share: the simulated fleet and every measurement, behind one lock.
struct World: Sendable {
    var fleet: Fleet
    var recorder = Recorder()
    var consistency = ConsistencyCheck()
    /// Drivers whose first report succeeded and whose event stream should be opened.
    var streamsToOpen: [String] = []
    var streamOpened: Set<String> = []
    var matching: String
    /// Set when the run is over: the fleet sends nothing more.
    var stopping = false
}

/// One run of a scenario against a target: the fleet, the riders, progress, and the final check.
final class LoadTest: Sendable {
    let scenario: Scenario
    let client: DispatchClient
    let world: Mutex<World>
    let city: CityMap
    let start = ContinuousClock.now
    let runID: String
    let serverPID: Int32?
    let usage = Mutex(ServerSampler())
    /// Driver event streams, cancelled once the fleet has stopped.
    let driverStreams = Mutex<[Task<Void, Never>]>([])
    /// The channel drivers' connections and what each waits for.
    let channels = Mutex(ChannelDrivers())
    /// The wall clock at the run's start, for the reports' `recordedAt`.
    let startWallClock = Date().timeIntervalSince1970
    /// The event loop of the channel drivers' connections.
    let channelLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// SIGINT and SIGTERM: the first one while load is generated ends the run early.
    let trap: SignalTrap

    /// Retrying through failovers (`--failover-retry-seconds`): what fails while a region's leader
    /// moves is counted as unanswered in the failover, not as an error, and the consistency check
    /// still judges every acknowledged ride.
    var retriesFailovers: Bool { client.retryBudget != nil }

    init(
        scenario: Scenario,
        target: String,
        serverPID: Int32?,
        credentials: Credentials,
        failoverRetry: Duration? = nil,
        roads: RoadGraph? = nil,
        trap: SignalTrap = SignalTrap()
    ) {
        self.scenario = scenario
        self.trap = trap
        city = CityMap(scenario: scenario, roads: roads)
        client = DispatchClient(
            target: target,
            connections: scenario.httpConnections,
            // Driver streams plus riders' streams in flight (bounded by the open-file limit anyway).
            streamConnections: scenario.driverStreams + 8_192,
            credentials: credentials,
            retryBudget: failoverRetry
        )
        // Every run has its own rider and driver IDs, so rides and drivers left by an earlier run
        // against the same server cannot collide with this one's.
        let runID = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        self.runID = runID
        world = Mutex(
            World(fleet: Fleet(scenario: scenario, city: city, idPrefix: "lt-\(runID)-d"), matching: scenario.matching)
        )
        self.serverPID = serverPID
    }

    /// Mints every simulated driver's token before the run (riders' are minted as they appear).
    func prepareTokens() async {
        let drivers = world.withLock { $0.fleet.drivers }
        // Each driver's token names its cohort, as an identity provider's would.
        client.credentials.assign(
            cohorts: Dictionary(uniqueKeysWithValues: drivers.compactMap { d in d.cohort.map { (d.id, $0) } })
        )
        await client.credentials.prepare(drivers.map { .driver($0.id) })
    }

    /// Seconds since the run started (the fleet's clock; the first request goes out at the warm-up's end).
    func now() -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// Seconds since the first request was due (the recorder's clock).
    func runSecond() -> Double { now() - scenario.warmupSeconds }

    func sleep(until time: Double) async throws {
        let delay = time - now()
        if delay > 0 { try await Task.sleep(for: .seconds(delay)) }
    }

    /// Waits until `time`, or until a signal ends the run early (looked at every 50 ms).
    /// - Returns: False when the run was interrupted (or the task cancelled) first.
    func pause(until time: Double) async -> Bool {
        while !trap.isInterrupted, !Task.isCancelled {
            let delay = time - now()
            guard delay > 0 else { return true }
            try? await Task.sleep(for: .seconds(min(delay, 0.05)))
        }
        return false
    }

    /// Runs the scenario: load until its end or the first SIGINT or SIGTERM, then the read-back.
    /// - Returns: The result and the measurements it was made of (for the histogram files); nil when
    ///   the location connections could not be opened.
    func run() async -> (RunResult, Recorder)? {
        trap.start()
        defer { trap.finish() }
        let startedAt = ISO8601DateFormatter().string(from: Date())
        let firehoseLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { firehoseLoop.shutdownGracefully { _ in } }
        let firehose: PipelinedClient
        do {
            guard let url = URL(string: client.target), let host = url.host else {
                throw ScenarioError("--target must be an http:// URL")
            }
            firehose = try await PipelinedClient.connect(
                host: host,
                port: url.port ?? 80,
                connections: scenario.httpConnections,
                group: firehoseLoop,
                clock: { [self] in now() },
                outcome: { [self] request, status, body, latency in
                    answered(request, status: status, body: body, latency: latency)
                }
            )
        } catch {
            return nil
        }
        guard await openChannels(host: firehose.host, port: firehose.port) else { return nil }
        let fleet = Task { await runFleet(firehose: firehose) }
        let progress = Task { await reportProgress() }
        let sampler = Task { await sampleServer() }
        _ = await pause(until: scenario.warmupSeconds)
        let generatorCPUAtStart = ProcessCPU.seconds(pid: nil)
        let requestsStartedAt = now()
        let sendingStopped = await runRiders {
            // Before the riders stop watching: stop the fleet and let its calls in flight finish, so
            // every ending the server makes is one the riders' streams can still deliver.
            world.withLock { $0.stopping = true }
            await fleet.value
            await firehose.close()
            closeChannels()
            for stream in driverStreams.withLock({ $0 }) { stream.cancel() }
            try? await Task.sleep(for: .milliseconds(500))
        }
        let elapsed = runSecond()
        let generatorCPU = (ProcessCPU.seconds(pid: nil) - generatorCPUAtStart) / max(now() - requestsStartedAt, 1)
        progress.cancel()
        sampler.cancel()
        await progress.value
        await sampler.value
        let server: [String: ConsistencyCheck.RideOnServer?]
        if trap.isInterrupted {
            say("interrupted: the rides are not read back")
            server = [:]
        } else {
            say("reading back \(world.withLock { $0.consistency.rides.count }) rides to check them… (Ctrl-C: stop)")
            server = await readBack()
        }
        let waits = client.waits + firehose.waits
        let retries = client.retries
        let (recorder, report, matching, fairness) = world.withLock { world in
            world.recorder.count(.generatorWaits, waits)
            if retries > 0 { world.recorder.count(.retried, retries) }
            return (
                world.recorder,
                world.consistency.verify(server: server, offersWhileBusy: world.fleet.offersWhileBusy),
                world.matching.isEmpty ? "unknown" : world.matching,
                FairnessSummary(fleet: world.fleet, hours: sendingStopped / 3_600)
            )
        }
        await client.shutdown()
        try? await channelLoop.shutdownGracefully()
        let result = RunResult(
            scenario: scenario,
            target: client.target,
            matching: matching,
            startedAt: startedAt,
            elapsedSeconds: elapsed,
            recorder: recorder,
            consistency: report,
            server: usage.withLock { $0.windows(scenario: scenario) },
            generatorCPU: generatorCPU,
            interruptedAfter: trap.isInterrupted ? sendingStopped : nil,
            fairness: fairness
        )
        return (result, recorder)
    }

    /// Records a call's latency and outcome; returns the outcome for the caller to act on.
    func record(_ outcome: CallOutcome, endpoint: String, sentAt: Double) -> CallOutcome {
        let latency = now() - sentAt
        world.withLock { world in
            world.recorder.call(endpoint, latency: latency)
            switch outcome {
            case .success, .cancelled: break
            case .shed: world.recorder.shed(endpoint)
            case .conflict(let code): world.recorder.conflict("\(endpoint) 409 \(code)")
            case .failure(let kind): unanswered(kind, at: sentAt - scenario.warmupSeconds, in: &world)
            }
        }
        return outcome
    }

    /// A call or stream that got no answer: an error, unless the run retries through failovers and the
    /// failure is one a failover makes; then it is counted apart, by kind. Those are: no answer (the
    /// connection closed or refused), a `503` a replica without a leader gives (`not_leader`,
    /// `database_unavailable`, `overloaded`, or `commit_timeout` from a leader that died or was
    /// deposed with the command applied in memory), a driver channel closed or not yet reopened, and
    /// a driver unknown to a new leader until its next report (`404` on its offer poll or event
    /// stream). Anything else (a `500`, a `4xx` but those `404`s) stays an error.
    func unanswered(_ kind: String, at second: Double, in world: inout World) {
        let failoverCodes = ["not_leader", "database_unavailable", "overloaded", "commit_timeout"]
        let failoverKind =
            kind.contains("transport:") || kind.contains("connection closed")
            || failoverCodes.contains { kind.hasSuffix(" 503 \($0)") || kind.hasSuffix(" \($0)") }
            || ["channel: closed by the service", "channel: cannot open"].contains { kind.hasPrefix($0) }
            || kind.hasSuffix(": no connection") || kind == "channel location -"
            // A paused leader, resumed, reads the reports its channels queued meanwhile all at once.
            || kind == "channel location rate_limited"
            || kind.hasSuffix("/offer 404") || kind.hasSuffix("/events 404") || kind.hasSuffix("/events 503")
        if retriesFailovers, failoverKind {
            world.recorder.shed("failover: \(kind)")
        } else {
            world.recorder.error(kind, at: second)
        }
    }

    /// Every acknowledged ride, read back from the server (nil where it answers 404).
    func readBack() async -> [String: ConsistencyCheck.RideOnServer?] {
        let ids = world.withLock { Array($0.consistency.rides.keys) }
        var results: [String: ConsistencyCheck.RideOnServer?] = [:]
        await withTaskGroup(of: (String, ConsistencyCheck.RideOnServer??).self) { group in
            var pending = ids.makeIterator()
            func next() -> Bool {
                // A signal during the read-back ends it: the rides not read are counted apart.
                guard !trap.isInterrupted, let id = pending.next() else { return false }
                group.addTask {
                    // The check is not load: a read the service sheds (503 overloaded, as it may under
                    // this burst of reads) is retried after a pause, a few times.
                    var outcome = CallOutcome.shed(retryAfter: nil)
                    for attempt in 0..<10 {
                        if attempt > 0 { try? await Task.sleep(for: .milliseconds(500)) }
                        let sentAt = self.now()
                        outcome = self.record(
                            await self.client.call(.GET, "/v1/rides/\(id)", as: .ops, expected: [200, 404]),
                            endpoint: "GET /v1/rides/{id}",
                            sentAt: sentAt
                        )
                        if case .shed = outcome { continue }
                        break
                    }
                    switch outcome {
                    case .success(404, _):
                        return (id, .some(nil))
                    case .success(_, let body):
                        guard let ride = try? JSONDecoder().decode(Wire.Ride.self, from: body) else { return (id, nil) }
                        if let eta = ride.etaSeconds, ride.status == "completed" {
                            self.world.withLock { $0.recorder.pickupETA(seconds: Double(eta)) }
                        }
                        return (id, .some(.init(status: ride.status, driverID: ride.driverId)))
                    case .conflict, .failure, .cancelled, .shed:
                        return (id, nil)
                    }
                }
                return true
            }
            for _ in 0..<32 where next() {}
            for await (id, read) in group {
                if let read { results[id] = read }
                _ = next()
            }
        }
        return results
    }
}
