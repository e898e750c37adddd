import CoreMetrics
import NIOHTTP1
import Synchronization

/// The connections (HTTP and driver channels) the service holds open, against `MAX_CONNECTIONS`.
///
/// Past the limit a new connection is not left waiting in the kernel's listen queue, where its
/// client would see nothing for seconds and then time out: it is accepted, its first request is
/// answered `503 overloaded` (reason `connections`) with `Retry-After` and `Connection: close`, and it
/// closes. Probes (`/healthz`, `/readyz`) are still answered on it. Only past a further
/// reserve (`hardLimit`) does the server stop accepting, so the file descriptors those short answers
/// take are bounded too.
final class ConnectionBudget: Sendable {
    /// The header the edge puts on the first request of a connection over the limit (any copy a
    /// client sent is removed first), for `AdmissionMiddleware` to shed it.
    static let overBudgetHeader = "x-dispatch-over-connection-budget"

    /// Connections served normally.
    let limit: Int
    /// Connections open at all, the over-limit ones being answered included: the server accepts no
    /// more (they wait in the listen queue) until one closes.
    let hardLimit: Int
    private let open = Atomic<Int>(0)
    private let gauge = Gauge(label: "dispatch_connections_open")

    /// - Parameter limit: `MAX_CONNECTIONS`. The reserve above it is a sixteenth (at least 64).
    init(limit: Int) {
        self.limit = limit
        hardLimit = limit + max(64, limit / 16)
    }

    /// Connections open now.
    var count: Int { open.load(ordering: .relaxed) }

    /// Counts a new connection.
    /// - Returns: Whether it is within `limit` (false: shed its first request and close it).
    func opened() -> Bool {
        let now = open.wrappingAdd(1, ordering: .relaxed).newValue
        gauge.record(now)
        return now <= limit
    }

    /// Counts a connection that closed.
    func closed() {
        gauge.record(open.wrappingSubtract(1, ordering: .relaxed).newValue)
    }

    /// The first request of a connection over the limit, as the router gets it: not an upgrade,
    /// closing the connection after its answer, and marked for `AdmissionMiddleware`.
    static func overBudget(_ head: HTTPRequestHead) -> HTTPRequestHead {
        var marked = head.plainAndClosing()
        marked.headers.replaceOrAdd(name: overBudgetHeader, value: "1")
        return marked
    }
}
