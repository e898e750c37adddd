import CoreMetrics
import Metrics
import Synchronization

/// This replica's part in its region, shared by the election, the writer's fence, the edge (which
/// forwards a standby's connections to the leader), readiness and the commands.
///
/// In memory (`STORAGE=memory`) there is nobody to elect with: the process leads from the start
/// (`Leadership.alone`).
final class Leadership: Sendable {
    /// This replica's part.
    enum Role: Sendable, Equatable {
        /// Not leading: forwards to the leader when it knows where it is, and waits for the lock.
        case standby
        /// Leading with this epoch: the one replica that dispatches and commits.
        case leader(epoch: Int64)
        /// Was leading, and a newer epoch exists (or it is handing over): commits nothing more.
        case deposed
    }

    private struct State {
        var role: Role
        var leaderAddress: String?
    }

    private let state: Mutex<State>
    /// The epoch every write transaction proves current (0: none; the writer writes nothing).
    private let epoch = Atomic<Int64>(0)
    /// This replica's own address, never forwarded to.
    let ownAddress: String

    private let leaderGauge = Gauge(label: "dispatch_leader")
    private let epochGauge = Gauge(label: "dispatch_leadership_epoch")

    /// - Parameters:
    ///   - role: The part to start in.
    ///   - ownAddress: Where other replicas reach this one (`host:port`).
    init(role: Role = .standby, ownAddress: String) {
        self.state = Mutex(State(role: role))
        self.ownAddress = ownAddress
        if case .leader(let epoch) = role { self.epoch.store(epoch, ordering: .relaxed) }
        record(role)
    }

    /// A replica that leads alone, for the memory store: nothing to elect, nothing to fence.
    static func alone() -> Leadership {
        Leadership(role: .leader(epoch: 0), ownAddress: "")
    }

    var role: Role { state.withLock { $0.role } }

    var isLeader: Bool {
        if case .leader = role { return true }
        return false
    }

    /// The epoch the writer fences its transactions with; 0 when not leading.
    var fenceEpoch: Int64 { epoch.load(ordering: .acquiring) }

    /// Where the leader is, when this replica does not lead and knows (never itself, nor once this
    /// replica has begun a term of its own: the old leader is gone).
    var forwardingAddress: String? {
        state.withLock { state in
            guard state.role == .standby, epoch.load(ordering: .acquiring) == 0, let address = state.leaderAddress,
                address != ownAddress
            else { return nil }
            return address
        }
    }

    /// Records where the leadership row says the leader is.
    func observe(leaderAddress: String?) {
        state.withLock { $0.leaderAddress = leaderAddress }
    }

    /// Begins a term: from now on the writer's transactions carry `epoch`, so that what the takeover
    /// restores is committed in it; commands wait for `lead`.
    func beginTerm(epoch: Int64) {
        self.epoch.store(epoch, ordering: .releasing)
    }

    /// Starts leading with `epoch`: commands are served.
    func lead(epoch: Int64) {
        self.epoch.store(epoch, ordering: .releasing)
        state.withLock {
            $0.role = .leader(epoch: epoch)
            $0.leaderAddress = ownAddress
        }
        record(.leader(epoch: epoch))
    }

    /// Stops leading for good: a newer epoch exists, or the lock was handed over at shutdown.
    func depose() {
        epoch.store(0, ordering: .releasing)
        state.withLock { $0.role = .deposed }
        record(.deposed)
    }

    private func record(_ role: Role) {
        switch role {
        case .leader(let epoch):
            leaderGauge.record(1)
            epochGauge.record(epoch)
        case .standby, .deposed:
            leaderGauge.record(0)
        }
    }
}
