import Foundation

/// How a region's replicas elect their one dispatcher (`LeaderElection`), read from `REGION`,
/// `LEADER_ID`, `ADVERTISE_ADDRESS` and `LEADER_LEASE_SECONDS`.
struct LeadershipConfiguration: Sendable, Equatable {
    /// The region the replicas dispatch for: one leader, and one epoch sequence, per region.
    var region = "default"
    /// This replica's name in the leadership row and the logs (the pod's name in Kubernetes).
    var identity = LeadershipConfiguration.defaultIdentity
    /// Where the other replicas reach this one's API port to forward to it while it leads
    /// (`host:port`; the pod's IP in Kubernetes). Nil: `127.0.0.1` and the API port.
    var advertiseAddress: String?
    /// How long a leader that has stopped answering keeps its lock: PostgreSQL ends its leadership
    /// session after this long idle (`idle_session_timeout`), and a standby takes over.
    var lease = Duration.seconds(4)

    /// How often a leader proves its epoch is still current: four times per lease.
    var renewInterval: Duration { lease / 4 }
    /// How often a standby tries for the lock and rereads where the leader is.
    var pollInterval: Duration { .milliseconds(250) }

    /// The advertised address, or the loopback one on `port`.
    func address(port: Int) -> String {
        advertiseAddress ?? "127.0.0.1:\(port)"
    }

    /// The host name and process ID: unique among the replicas of one machine or cluster.
    static var defaultIdentity: String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }
}
