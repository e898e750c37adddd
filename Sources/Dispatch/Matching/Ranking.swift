/// How a ride's candidates are ranked (`DISPATCH_RANKING`): what greedy matching takes the least of,
/// and what batch matching minimises in total.
public enum Ranking: String, Hashable, Sendable, CaseIterable {
    /// Straight-line distance to the pickup, nearest first. Needs no road graph.
    case distance
    /// Time to the pickup by road (`ROAD_GRAPH`), fastest first. A driver the roads do not bring to
    /// the pickup within `DispatchConfiguration.maximumPickupETA` is not a candidate; a driver or a
    /// pickup off the roads (no node within the router's snap radius) is timed in a straight line at
    /// the city speed.
    case eta
    /// The expected time until a driver is on the way: the ETA (by road with a road graph, else in a
    /// straight line) plus what the driver's chance of not accepting is expected to cost
    /// (`AcceptanceModel`), lowest first.
    case etaAcceptance = "eta-acceptance"
}
