/// The exit statuses of `dispatch-loadtest`, as scripts and CI read them.
public enum ExitStatus {
    /// The run passed (or the subcommand's check did).
    public static let passed: Int32 = 0
    /// The run saw errors or lost rides (or the subcommand's check failed).
    public static let failed: Int32 = 1
    /// Bad usage, or no service to test.
    public static let usage: Int32 = 2
    /// Stopped by SIGINT or SIGTERM before the end (128 + SIGINT, as a shell reports a Ctrl-C).
    public static let interrupted: Int32 = 130
}

/// What a run does with SIGINT and SIGTERM: the first one while load is generated ends the run early,
/// with the summary and the result files of what was measured; any other exits at once.
public struct InterruptState: Sendable, Equatable {
    /// What to do with a signal just received.
    public enum Action: Sendable, Equatable {
        /// Stop generating load, then report and write the results as at a normal end.
        case finishEarly
        /// Exit now with ``ExitStatus/interrupted``, writing nothing.
        case exitNow
    }

    /// Whether a run is under way (between ``start()`` and ``finish()``): only then is there
    /// something to report.
    public private(set) var running = false
    /// The signal that ended the run early (`SIGINT`, `SIGTERM`), nil while none has.
    public private(set) var signal: String?

    public init() {}

    /// Whether the run was told to finish early.
    public var isInterrupted: Bool { signal != nil }

    /// The run starts generating load.
    public mutating func start() {
        running = true
    }

    /// The run has its results: a signal now exits at once.
    public mutating func finish() {
        running = false
    }

    /// - Parameter signal: The signal's name.
    /// - Returns: `.finishEarly` for the first signal during a run; `.exitNow` before or after a run,
    ///   and for a second signal.
    public mutating func received(_ signal: String) -> Action {
        guard running, self.signal == nil else { return .exitNow }
        self.signal = signal
        return .finishEarly
    }
}
