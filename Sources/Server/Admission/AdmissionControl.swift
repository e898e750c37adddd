import CoreMetrics
import HTTPTypes

/// What admission control needs to know about commands waiting for the database.
protocol CommandBacklog: Sendable {
    /// Commands waiting for their commit now.
    var waitingCommands: Int { get }
    /// How long the oldest of them has waited (refreshed every ~100 ms).
    var oldestCommandWait: Duration { get }
}

extension LoadSignals {
    /// Reads the signals from the scheduling-lag probes and the commands waiting for the database.
    /// - Parameters:
    ///   - lag: The scheduling-lag probes.
    ///   - backlog: The commands waiting for the database, with `STORAGE=postgres`.
    static func reader(lag: SchedulingLagMonitor, backlog: (any CommandBacklog)?) -> @Sendable () -> LoadSignals {
        {
            LoadSignals(
                schedulingLag: lag.current,
                waitingCommands: backlog?.waitingCommands ?? 0,
                oldestCommandWait: backlog?.oldestCommandWait ?? .zero
            )
        }
    }
}

/// Admission control at run time: reads the load signals, asks `AdmissionPolicy`, counts what it
/// sheds. Shared by every connection's `EdgeHandler`, which asks it about every request before any
/// work is done for it.
final class AdmissionControl: Sendable {
    /// The thresholds.
    let policy: AdmissionPolicy
    private let readSignals: @Sendable () -> LoadSignals
    private let shed: [RequestClass: [ShedReason: Counter]]

    /// Creates admission control.
    /// - Parameters:
    ///   - policy: The thresholds.
    ///   - signals: Reads the load signals now (`LoadSignals.reader`; tests pass fixed ones).
    init(policy: AdmissionPolicy, signals: @escaping @Sendable () -> LoadSignals) {
        self.policy = policy
        self.readSignals = signals
        var shed: [RequestClass: [ShedReason: Counter]] = [:]
        for requestClass in RequestClass.allCases {
            for reason in ShedReason.allCases {
                shed[requestClass, default: [:]][reason] = Counter(
                    label: "dispatch_requests_shed_total",
                    dimensions: [("class", requestClass.rawValue), ("reason", reason.rawValue)]
                )
            }
        }
        self.shed = shed
    }

    /// The load signals now.
    var signals: LoadSignals { readSignals() }

    /// Decides about a request of a class, counting it when it is shed.
    /// - Returns: Why it is shed, or nil to take it.
    func shedReason(for requestClass: RequestClass) -> ShedReason? {
        let draw = Double.random(in: 0..<1)
        guard case .shed(let reason) = policy.decide(requestClass, signals, draw: draw) else { return nil }
        shed[requestClass]?[reason]?.increment()
        return reason
    }

    /// Counts a request of a class shed because it came on a connection over `MAX_CONNECTIONS`.
    func shedOverBudget(_ requestClass: RequestClass) -> APIError {
        shed[requestClass]?[.connections]?.increment()
        return shedError(.connections)
    }

    /// The answer to a shed request: `503 overloaded` with `Retry-After`.
    func shedError(_ reason: ShedReason) -> APIError {
        let what =
            switch reason {
            case .cpu: "the service is overloaded"
            case .database: "the database is behind"
            case .connections: "too many connections are open"
            }
        return APIError(
            .serviceUnavailable,
            code: "overloaded",
            "\(what); the request was not processed, retry after \(policy.retryAfterSeconds) s",
            retryAfterSeconds: policy.retryAfterSeconds
        )
    }
}
