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

    public var errorCount: Int { errors.values.reduce(0, +) }

    /// Whether the run counts as passed: no errors and nothing lost or double-booked.
    public var passed: Bool { errorCount == 0 && consistency.passed }

    public init(
        scenario: Scenario,
        target: String,
        matching: String,
        startedAt: String,
        elapsedSeconds: Double,
        recorder: Recorder,
        consistency: ConsistencyCheck.Report,
        server: [ServerUsage]
    ) {
        self.scenario = scenario
        self.target = target
        self.matching = matching
        self.startedAt = startedAt
        self.elapsedSeconds = elapsedSeconds
        self.requestSeconds = scenario.durationSeconds
        match = recorder.match.summary
        matchAtOnce = recorder.matchAtOnce.summary
        accept = recorder.accept.summary
        location = recorder.location.summary
        pickupDistance = recorder.pickupDistance.summary
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
        steps = Self.steps(of: scenario, recorder: recorder)
        sustainableRate = Self.sustainableRate(steps)
        self.consistency = consistency
        self.server = server
    }

    public func count(_ counter: Counter) -> Int { counters[counter.rawValue] ?? 0 }

    /// Location updates answered per second while requests were sent (warm-up and drain left out).
    public var locationUpdatesPerSecond: Double {
        let seconds = Int(requestSeconds.rounded(.down))
        guard seconds > 0 else { return 0 }
        return Double(timeline.prefix(seconds).map(\.locationUpdates).reduce(0, +)) / Double(seconds)
    }

    /// Groups the timeline's seconds into the staircase's steps.
    static func steps(of scenario: Scenario, recorder: Recorder) -> [Step] {
        let profile = scenario.rateProfile
        guard let step = profile.step, step.seconds > 0 else { return [] }
        let count = Int((scenario.durationSeconds / step.seconds).rounded(.up))
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
