/// Why a command's answer cannot say it is durable. (`APIError` maps each to its HTTP answer; storage
/// knows nothing of HTTP.)
enum CommandNotDurable: Error, Equatable {
    /// The database is unreachable or the queue is full: the command was not applied
    /// (`503 database_unavailable`).
    case unavailable
    /// The command was applied but its commit did not come in time: its durability is unknown
    /// (`503 commit_timeout`).
    case late
    /// The database refused the command's events for good (naming the constraint, when one refused
    /// them); they are in the dead-letter table (`500 storage_refused`).
    case refused(constraint: String?, reason: String)
    /// This replica does not lead its region (a standby, or deposed): the command was not applied here
    /// and is to be retried, through the Service, at the leader (`503 not_leader`).
    case notLeader
}
