import Foundation
import Histogram

/// Everything a run produced, as written to the JSON result file and read back to build reports.
public struct RunResult: Codable, Sendable {
    /// One second of the run.
    public struct Point: Codable, Equatable, Sendable {
        public var second: Int
        public var requested: Int
        public var matched: Int
        public var locationUpdates: Int
        public var errors: Int
        /// Match latency of the requests scheduled in this second, in ms (0 when none matched).
        public var matchP50: Double
        public var matchP99: Double
        /// Location update latency in this second, in ms.
        public var locationP99: Double
    }

    /// One step of a staircase (`peak`): its rate and whether the service held the objective.
    public struct Step: Codable, Equatable, Sendable {
        public var index: Int
        public var rate: Double
        public var requested: Int
        public var matched: Int
        public var errors: Int
        /// Match latency of the step's rides offered at once, in ms: what the server's speed decides
        /// (a ride that waited for a driver to free up measures supply, not capacity).
        public var matchP50: Double
        public var matchP99: Double
        /// p99 within the objective, no errors, and at least 99 % of the step's requests matched.
        public var held: Bool
    }

    /// The server process's use, sampled from `/proc` when the runner was given its PID.
    public struct ServerUsage: Codable, Equatable, Sendable {
        /// CPU cores used on average over the window (1.0 = one core busy).
        public var cpuCores: Double
        public var residentBytes: Int
        public var fromSecond: Int
        public var toSecond: Int

        public init(cpuCores: Double, residentBytes: Int, fromSecond: Int, toSecond: Int) {
            self.cpuCores = cpuCores
            self.residentBytes = residentBytes
            self.fromSecond = fromSecond
            self.toSecond = toSecond
        }
    }

    /// Whether the generator kept up with its own schedule: a run where it did not measures the
    /// generator, not the service, and is marked invalid.
    public struct GeneratorHealth: Codable, Equatable, Sendable {
        /// CPU cores the generator used on average while requests were sent (nil: not measured).
        public var cpuCores: Double?
        /// How late the fleet's ticker woke, p99, in ms.
        public var tickLagP99: Double
        /// How late rider requests left against their schedule, p99, in ms.
        public var sendLagP99: Double
        /// Calls that waited in the generator for a connection or behind a full pipeline.
        public var waits: Int
        /// Calls made (every endpoint).
        public var calls: Int
        /// Why the run is invalid; empty when it is valid.
        public var problems: [String]

        public var valid: Bool { problems.isEmpty }

        /// A lag beyond this (ms) means the generator fell behind its own schedule.
        public static let lagLimitMs = 100.0
        /// More than this share of calls held in the generator means its queues, not the service's,
        /// shaped the latencies.
        public static let waitShareLimit = 0.001

        public init(cpuCores: Double?, tickLagP99: Double, sendLagP99: Double, waits: Int, calls: Int) {
            self.cpuCores = cpuCores
            self.tickLagP99 = tickLagP99
            self.sendLagP99 = sendLagP99
            self.waits = waits
            self.calls = calls
            var problems: [String] = []
            if tickLagP99 > Self.lagLimitMs {
                problems.append(String(format: "the fleet's ticker ran %.0f ms late (p99)", tickLagP99))
            }
            if sendLagP99 > Self.lagLimitMs {
                problems.append(String(format: "rider requests left %.0f ms late (p99)", sendLagP99))
            }
            if calls > 0, Double(waits) > Self.waitShareLimit * Double(calls) {
                problems.append("\(waits) of \(calls) calls waited in the generator for a connection")
            }
            self.problems = problems
        }
    }

    public var scenario: Scenario
    public var target: String
    public var matching: String
    public var startedAt: String
    /// Seconds from the first request to the end of the drain.
    public var elapsedSeconds: Double
    /// Seconds during which requests were sent (the rate denominators).
    public var requestSeconds: Double
    public var match: MeasureSummary
    /// Match latency of the rides offered at once (a driver free when they asked).
    public var matchAtOnce: MeasureSummary
    public var accept: MeasureSummary
    public var location: MeasureSummary
    public var pickupDistance: MeasureSummary
    /// The accepted drivers' ETAs to their pickups, in seconds (absent in results written before).
    public var pickupETA: MeasureSummary?
    /// Offers and trips by driver cohort and across drivers (absent in results written before).
    public var fairness: FairnessSummary?
    /// How late the client itself sent requests against their schedule (its own overload).
    public var schedulerLag: MeasureSummary
    public var endpoints: [String: MeasureSummary]
    public var counters: [String: Int]
    public var errors: [String: Int]
    public var conflicts: [String: Int]
    public var timeline: [Point]
    public var steps: [Step]
    /// The highest step rate up to which every step held (nil without steps, 0 when the first failed).
    public var sustainableRate: Double?
    public var consistency: ConsistencyCheck.Report
    public var server: [ServerUsage]
    /// Requests the service shed (503 with Retry-After), by endpoint: not errors, but counted.
    public var shed: [String: Int]
    public var generator: GeneratorHealth
    /// Whether SIGINT or SIGTERM ended the run early: the figures cover the run up to then, the
    /// rides in flight were not waited for, and the read-back covers only the rides read before
    /// (none when the signal came while load was generated). Nil in results written before.
    public var interrupted: Bool?

    public var errorCount: Int { errors.values.reduce(0, +) }

    /// Whether the run was ended early by a signal.
    public var wasInterrupted: Bool { interrupted ?? false }

    /// Whether the run counts as passed: it ran to its end, the generator kept up (a valid run), no
    /// errors, and nothing lost or double-booked.
    public var passed: Bool { !wasInterrupted && generator.valid && errorCount == 0 && consistency.passed }

    public init(
        scenario: Scenario,
        target: String,
        matching: String,
        startedAt: String,
        elapsedSeconds: Double,
        recorder: Recorder,
        consistency: ConsistencyCheck.Report,
        server: [ServerUsage],
        generatorCPU: Double? = nil,
        interruptedAfter: Double? = nil,
        fairness: FairnessSummary? = nil
    ) {
        self.fairness = fairness
        self.scenario = scenario
        self.target = target
        self.matching = matching
        self.startedAt = startedAt
        self.elapsedSeconds = elapsedSeconds
        interrupted = interruptedAfter != nil
        requestSeconds = Self.requestSeconds(of: scenario, interruptedAfter: interruptedAfter)
        match = recorder.match.summary
        matchAtOnce = recorder.matchAtOnce.summary
        accept = recorder.accept.summary
        location = recorder.location.summary
        pickupDistance = recorder.pickupDistance.summary
        pickupETA = recorder.pickupETA.summary
        schedulerLag = recorder.schedulerLag.summary
        endpoints = recorder.endpoints.mapValues(\.summary)
        counters = Dictionary(uniqueKeysWithValues: recorder.counters.map { ($0.key.rawValue, $0.value) })
        errors = recorder.errors
        conflicts = recorder.conflicts
        timeline = recorder.timeline.enumerated().map { second, bucket in
            Point(
                second: second,
                requested: bucket.requested,
                matched: bucket.matched,
                locationUpdates: bucket.locationUpdates,
                errors: bucket.errors,
                matchP50: bucket.match.count > 0 ? bucket.match.value(at: 50) : 0,
                matchP99: bucket.match.count > 0 ? bucket.match.value(at: 99) : 0,
                locationP99: bucket.location.count > 0 ? bucket.location.value(at: 99) : 0
            )
        }
        steps = Self.steps(of: scenario, recorder: recorder, requestSeconds: requestSeconds)
        sustainableRate = Self.sustainableRate(steps)
        self.consistency = consistency
        self.server = server
        shed = recorder.shed
        generator = GeneratorHealth(
            cpuCores: generatorCPU,
            tickLagP99: recorder.tickLag.count > 0 ? recorder.tickLag.value(at: 99) : 0,
            sendLagP99: recorder.schedulerLag.count > 0 ? recorder.schedulerLag.value(at: 99) : 0,
            waits: recorder.value(.generatorWaits),
            calls: recorder.endpoints.values.reduce(0) { $0 + Int($1.count) }
        )
    }

    public func count(_ counter: Counter) -> Int { counters[counter.rawValue] ?? 0 }

    /// Location updates answered per second while requests were sent (warm-up and drain left out).
    public var locationUpdatesPerSecond: Double {
        let seconds = Int(requestSeconds.rounded(.down))
        guard seconds > 0 else { return 0 }
        return Double(timeline.prefix(seconds).map(\.locationUpdates).reduce(0, +)) / Double(seconds)
    }

    /// Seconds during which requests were sent: the scenario's duration, or up to the signal that
    /// ended the run early.
    /// - Parameter interruptedAfter: Seconds from the first request to the signal (nil: not interrupted).
    static func requestSeconds(of scenario: Scenario, interruptedAfter: Double?) -> Double {
        guard let interruptedAfter else { return scenario.durationSeconds }
        return min(scenario.durationSeconds, max(interruptedAfter, 0))
    }

    /// Groups the timeline's seconds into the staircase's steps.
    /// - Parameter requestSeconds: How long requests were sent (default: the scenario's duration);
    ///   only the steps begun by then are listed.
    static func steps(of scenario: Scenario, recorder: Recorder, requestSeconds: Double? = nil) -> [Step] {
        let profile = scenario.rateProfile
        guard let step = profile.step, step.seconds > 0 else { return [] }
        let count = Int(((requestSeconds ?? scenario.durationSeconds) / step.seconds).rounded(.up))
        return (0..<count).map { index in
            var match = Measure.latency(digits: .two)
            var requested = 0
            var matched = 0
            var errors = 0
            let first = Int((Double(index) * step.seconds).rounded(.down))
            let last = min(Int((Double(index + 1) * step.seconds).rounded(.down)), recorder.timeline.count)
            if first < last {
                for second in recorder.timeline[first..<last] {
                    match.add(second.matchAtOnce)
                    requested += second.requested
                    matched += second.matched
                    errors += second.errors
                }
            }
            let p99 = match.count > 0 ? match.value(at: 99) : 0
            let held =
                requested > 0 && errors == 0 && Double(matched) >= 0.99 * Double(requested)
                && p99 <= scenario.objectiveP99MatchMs
            return Step(
                index: index,
                rate: profile.rate(at: Double(index) * step.seconds),
                requested: requested,
                matched: matched,
                errors: errors,
                matchP50: match.count > 0 ? match.value(at: 50) : 0,
                matchP99: p99,
                held: held
            )
        }
    }

    /// The rate of the last step of the unbroken run of held steps from the first.
    static func sustainableRate(_ steps: [Step]) -> Double? {
        guard !steps.isEmpty else { return nil }
        return steps.prefix { $0.held }.last?.rate ?? 0
    }
}
