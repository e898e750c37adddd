/// How requests are matched to drivers (`MATCHING`).
public enum MatchingMode: String, Hashable, Sendable, CaseIterable {
    /// Each request is offered to its nearest eligible driver the moment it arrives.
    case greedy
    /// Requests and free drivers are collected for a short window and assigned together so that the
    /// total pickup distance is minimal (an optimal assignment over each ride's candidates).
    case batch
}
