/// What a request is, as far as admission control cares: classes in the order they are given up
/// when the service is overloaded (location reports, reads and new streams first, new ride requests
/// next, commands that move a ride along never for load alone).
enum RequestClass: String, Sendable, CaseIterable {
    /// Accept, decline, arrive, start, complete, cancel: they finish rides already promised.
    case rideProgress = "ride_progress"
    /// `POST /v1/rides`.
    case rideRequest = "ride_request"
    /// Location reports: each is superseded by the driver's next one a few seconds later.
    case locationReport = "location_report"
    /// Reads: nearby, a ride, an offer, a history.
    case read
    /// Opening an event stream or the driver channel.
    case stream
    /// Probes: always answered, so operators can see an overloaded service (metrics have their own port).
    case operations

    /// Classifies a request by method and path (the path without its query).
    /// - Parameters:
    ///   - isPost: Whether the method is POST.
    ///   - isPut: Whether the method is PUT.
    ///   - path: The request path, e.g. `/v1/rides/abc/accept`.
    init(isPost: Bool, isPut: Bool, path: Substring) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard segments.first == "v1" else {
            self = .operations
            return
        }
        switch (segments.count, segments.dropFirst().first) {
        case (2, "rides") where isPost:
            self = .rideRequest
        case (4, "rides") where isPost:
            self = .rideProgress
        case (4, "drivers") where isPut && segments[3] == "location":
            self = .locationReport
        case (4, _) where segments[3] == "events" || segments[3] == "channel":
            self = .stream
        case (4, "drivers") where isPut:
            // Status changes are small commands a driver makes rarely; never shed for load.
            self = .rideProgress
        default:
            self = .read
        }
    }
}

/// Why a request was shed.
enum ShedReason: String, Sendable, CaseIterable {
    /// The event loops or the task executor run late: the machine is out of CPU.
    case cpu
    /// Commands wait too long, or too many wait, for their commit: the database is behind.
    case database
    /// More connections are open than `MAX_CONNECTIONS`: the request came on one over the limit.
    case connections
}

/// What the service is under right now, as the admission policy reads it.
struct LoadSignals: Sendable, Equatable {
    /// How late scheduled work runs on the event loops and the task executor (the worst of the last
    /// probes).
    var schedulingLag: Duration = .zero
    /// Commands waiting for their commit.
    var waitingCommands = 0
    /// How long the oldest of them has waited.
    var oldestCommandWait: Duration = .zero
}

/// Decides, for each request, whether the service takes it now or sheds it with `503` and
/// `Retry-After`: a pure function of the request's class and the load signals, so it is tested
/// without a server (and the edge and the router ask the same policy).
///
/// Shedding is by priority: above `reportLagLimit` of scheduling lag, location reports, reads and new
/// streams are shed (they are most of the work, and a report is superseded by the driver's next
/// one); above `requestLagLimit`, or when commands wait longer than `requestCommitLimit` for the
/// database, new ride requests are shed too; commands that move a ride along are refused only when
/// `maximumWaitingCommands` already wait, which bounds the memory and the wait of everything queued.
///
/// Shedding for lag is gradual: a share of the class is shed that grows with how far the lag is past
/// its limit, reaching all of it at twice the limit. All-or-nothing shedding makes an overloaded
/// service serve nothing while the lag it is working off stays above the limit; shedding a share lets
/// the lag settle a little above the limit with the service serving what it can.
struct AdmissionPolicy: Sendable, Equatable {
    /// Scheduling lag above which reports, reads and new streams are shed.
    var reportLagLimit: Duration = .milliseconds(100)
    /// Scheduling lag above which new ride requests are shed.
    var requestLagLimit: Duration = .milliseconds(250)
    /// How long the oldest command may have waited for its commit before new ride requests are shed.
    var requestCommitLimit: Duration = .milliseconds(500)
    /// The most commands that may wait for their commit at once.
    var maximumWaitingCommands = 2_000
    /// What `Retry-After` tells a shed client, in seconds.
    var retryAfterSeconds = 2

    /// The decision for one request.
    enum Decision: Sendable, Equatable {
        case admit
        case shed(ShedReason)
    }

    /// Whether to take a request of `requestClass` under `signals`.
    /// - Parameter draw: A number in [0, 1), drawn at random for each request, that decides whether a
    ///   request falls in the share shed for lag.
    func decide(_ requestClass: RequestClass, _ signals: LoadSignals, draw: Double) -> Decision {
        switch requestClass {
        case .operations:
            return .admit
        case .rideProgress:
            return signals.waitingCommands >= maximumWaitingCommands ? .shed(.database) : .admit
        case .rideRequest:
            if draw < Self.share(of: signals.schedulingLag, pastLimit: requestLagLimit) { return .shed(.cpu) }
            if signals.oldestCommandWait > requestCommitLimit || signals.waitingCommands >= maximumWaitingCommands / 2 {
                return .shed(.database)
            }
            return .admit
        case .locationReport, .read, .stream:
            return draw < Self.share(of: signals.schedulingLag, pastLimit: reportLagLimit) ? .shed(.cpu) : .admit
        }
    }

    /// The share of a class shed at `lag`: none up to the limit, then growing linearly to all of it at
    /// twice the limit.
    static func share(of lag: Duration, pastLimit limit: Duration) -> Double {
        guard lag > limit, limit > .zero else { return 0 }
        return min(1, (lag - limit) / limit)
    }
}
