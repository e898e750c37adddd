import Foundation
import Geo

/// The settings of the dispatch core. The server reads them from the environment (names in
/// parentheses); the defaults follow what ride-hailing platforms publish (docs/ARCHITECTURE.md).
public struct DispatchConfiguration: Hashable, Sendable {
    /// How long a driver's location stays fresh (`DRIVER_TTL_SECONDS`).
    public var driverFreshness: Duration = .seconds(30)
    /// How old a location report's fix may be when applied to a driver that is still fresh
    /// (`LOCATION_MAX_AGE_MS`; one reporting interval by default); nil: never dropped for age.
    public var locationMaximumAge: Duration? = .seconds(4)
    /// Greedy or batch matching (`MATCHING`).
    public var matching: MatchingMode = .greedy
    /// How long batch matching collects requests before assigning (`BATCH_WINDOW_MS`).
    public var batchWindow: Duration = .milliseconds(500)
    /// How long a driver has to answer an offer (`OFFER_TIMEOUT_SECONDS`).
    public var offerTimeout: Duration = .seconds(15)
    /// The first search radius (`SEARCH_RADIUS_METERS`).
    public var searchRadius: Meters = 3_000
    /// The widest search radius (`MAX_SEARCH_RADIUS_METERS`).
    public var maxSearchRadius: Meters = 10_000
    /// How much the radius grows at each step (`SEARCH_RADIUS_STEP_METERS`).
    public var searchRadiusStep: Meters = 1_000
    /// How long to search at one radius before widening (`SEARCH_WIDEN_INTERVAL_SECONDS`).
    public var searchWidenInterval: Duration = .seconds(10)
    /// How long a ride may search before it is unfulfilled (`SEARCH_TIMEOUT_SECONDS`).
    public var searchTimeout: Duration = .seconds(120)
    /// The region this dispatcher serves; rides picked up elsewhere are refused (`SERVICE_AREA`;
    /// nil: anywhere).
    public var serviceArea: ServiceArea?
    /// The speed of straight-line ETAs (`CITY_SPEED_KMH`): every ETA without a road graph, and, with
    /// one, a driver's or a pickup's off the roads.
    public var citySpeedKilometersPerHour: Double = 25
    /// In greedy mode, how often a ride with no driver in reach looks again.
    public var retryInterval: Duration = .seconds(1)
    /// What candidates are ranked by (`DISPATCH_RANKING`). `eta` needs a road graph
    /// (`DispatchState.init(configuration:roads:)`).
    public var ranking: Ranking = .distance
    /// How many nearest drivers each ride considers.
    public var candidateLimit = 10
    /// Under `Ranking.eta`: how many straight-line nearest drivers are timed by road. More than
    /// `candidateLimit`, since the roads reorder them: across a harbour the nearest can be the slowest.
    public var roadCandidateLimit = 20
    /// Under `Ranking.eta`: a driver the roads do not bring to the pickup within this long is not a
    /// candidate (`MAX_PICKUP_ETA_SECONDS`).
    public var maximumPickupETA: Duration = .seconds(1_200)
    /// Under `Ranking.etaAcceptance`: how a driver's offer history becomes a chance of accepting and
    /// a score (`ACCEPTANCE_*`, `DECLINE_COST_SECONDS`).
    public var acceptance = AcceptanceModel()
    /// How long finished rides stay in memory (for reads and event replays).
    public var finishedRideRetention: Duration = .seconds(600)
    /// How long after its last report a driver holding no offer or ride is forgotten entirely
    /// (`DRIVER_FORGET_SECONDS`; by default ten times `driverFreshness`).
    public var driverForgetAfter: Duration = .seconds(300)
    /// The most drivers an instance remembers (`MAX_DRIVERS`); a report from one more is refused
    /// with `capacity_exhausted`.
    public var maximumDrivers = 200_000
    /// The most unfinished rides an instance holds (`MAX_OPEN_RIDES`); a request for one more is
    /// refused with `capacity_exhausted`.
    public var maximumOpenRides = 100_000

    /// How many changes to drivers, and to rides, the dispatcher holds between two reads of the
    /// operators' map (`DispatchState.cityChanges(since:now:)`, only while it follows): a map further
    /// behind reads the whole city.
    public var changeJournalCapacity = ChangeJournal<DriverID>.defaultCapacity

    /// Watchdog: an accepted ride whose driver has not arrived within its ETA × this factor plus
    /// `pickupGraceMargin` is handed back to searching (`PICKUP_GRACE_FACTOR`).
    public var pickupGraceFactor: Double = 2
    /// Watchdog: the margin added to the ETA × `pickupGraceFactor` (`PICKUP_GRACE_SECONDS`).
    public var pickupGraceMargin: Duration = .seconds(300)
    /// Watchdog: a driver holding an accepted or arrived ride who has not reported for this long is
    /// treated as gone and the ride searches again (`ASSIGNED_DRIVER_TTL_SECONDS`). Longer than
    /// `driverFreshness`: a tunnel or a lift should not cost a rider their car.
    public var assignedDriverTTL: Duration = .seconds(120)
    /// Watchdog: a trip in progress for longer than this is completed by the service
    /// (`MAX_TRIP_SECONDS`).
    public var maximumTripDuration: Duration = .seconds(4 * 3_600)

    /// The defaults.
    public init() {}

    /// When an accepted ride's driver must have arrived, by the pickup watchdog.
    public func pickupDeadline(acceptedAt: Date, eta: Duration?) -> Date {
        acceptedAt + (eta ?? .zero).timeInterval * pickupGraceFactor + pickupGraceMargin.timeInterval
    }

    /// The estimated time to cover a distance at the city speed.
    public func eta(for distance: Meters) -> Duration {
        let seconds = distance.value / (citySpeedKilometersPerHour * 1000 / 3600)
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

extension Duration {
    /// The duration in seconds, as Foundation counts time (and metrics record it): the one conversion
    /// from `Duration` to seconds.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
