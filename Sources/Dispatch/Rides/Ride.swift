import Foundation
import Geo

/// Where a ride is in its life.
///
/// ```
/// requested ──offer──▶ offered ──accept──▶ accepted ──arrive──▶ arrived ──start──▶ in_progress ──▶ completed
///     ▲  ▲                │ decline/expiry      │                   │
///     │  └────────────────┘                     │ driver cancels    │ driver cancels
///     └─────────────────────────────────────────┴───────────────────┘
/// requested/offered/accepted/arrived ──rider cancels──▶ cancelled
/// requested (after the search timeout) ──▶ unfulfilled
/// ```
public enum RideStatus: String, Hashable, Sendable, CaseIterable {
    /// Searching for a driver.
    case requested
    /// One driver holds an offer for it.
    case offered
    /// A driver accepted and is on the way to the pickup.
    case accepted
    /// The driver is at the pickup.
    case arrived
    /// The rider is on board.
    case inProgress = "in_progress"
    /// Dropped off. Final.
    case completed
    /// Cancelled by the rider. Final.
    case cancelled
    /// No driver accepted before the search timeout. Final.
    case unfulfilled

    /// Whether the ride has ended.
    public var isFinal: Bool {
        switch self {
        case .completed, .cancelled, .unfulfilled: true
        default: false
        }
    }
}

/// What a rider asks for.
public struct RideRequest: Hashable, Sendable {
    /// Who asks.
    public let riderID: RiderID
    /// Where to be picked up.
    public let pickup: Coordinate
    /// Where to go.
    public let dropoff: Coordinate

    /// Creates a request.
    public init(riderID: RiderID, pickup: Coordinate, dropoff: Coordinate) {
        self.riderID = riderID
        self.pickup = pickup
        self.dropoff = dropoff
    }
}

/// Why an offer went to the driver it went to, so every dispatch decision can be explained afterwards.
public struct OfferExplanation: Hashable, Sendable {
    /// The matching mode that made the decision.
    public let matching: MatchingMode
    /// What the candidates were ranked by.
    public let ranking: Ranking
    /// The rule and its settings that ranked them: the ranking's name, or under
    /// `Ranking.etaAcceptance` the `AcceptanceModel.version`.
    public let policy: String
    /// The search radius at the time.
    public let radius: Meters
    /// How many eligible drivers were within it (after excluding those who declined, and, ranking by
    /// ETA, those the roads do not bring to the pickup in time).
    public let candidates: Int
    /// The chosen driver's rank among them, 1 for the best ranked (nearest, or fastest by road).
    public let rank: Int
    /// The chosen driver's straight-line distance to the pickup.
    public let pickupDistance: Meters
    /// The chosen driver's time to the pickup (by road under `Ranking.eta`).
    public let eta: Duration
    /// The offer timeout in force: what an expiry costs under `Ranking.etaAcceptance`.
    public let offerTimeout: Duration
    /// The acceptance model's settings, under `Ranking.etaAcceptance` (its `version` is `policy`).
    public let acceptanceModel: AcceptanceModel?
    /// How many rides competed for these candidates: 1 under greedy matching; under batch matching,
    /// the rides of the decision's independent group in its batch (`Matcher.independentGroups`), all
    /// offered at the same instant. A replay re-runs the assignment when it has all of them.
    public let group: Int
    /// The drivers considered, best ranked first (at most `DispatchConfiguration.candidateLimit`, or
    /// `roadCandidateLimit` by ETA), with where each was, how far from the pickup and how long it would
    /// take: the chosen one is at `rank - 1`. For operators only: it names other drivers, so it is
    /// never shown to riders or drivers.
    public let considered: [Candidate]

    /// One driver considered for an offer.
    public struct Candidate: Hashable, Sendable {
        /// The driver.
        public let driverID: DriverID
        /// Where the driver was at the decision.
        public let location: Coordinate
        /// The straight-line distance to the pickup.
        public let distance: Meters
        /// The time to the pickup (by road under `Ranking.eta`).
        public let eta: Duration
        /// The estimated chance the driver accepts (under `Ranking.etaAcceptance`).
        public let acceptance: Double?
        /// What the ranking minimised for it: metres, seconds of ETA, or expected seconds until a
        /// driver is on the way.
        public let score: Double
        /// The driver's offer history at the decision, decayed to it (under `Ranking.etaAcceptance`):
        /// what `acceptance` and the cost of a miss were estimated from.
        public let history: OfferHistory?

        /// A candidate as recorded (`DecisionReplay` reads them back).
        public init(
            driverID: DriverID,
            location: Coordinate,
            distance: Meters,
            eta: Duration,
            acceptance: Double?,
            score: Double,
            history: OfferHistory?
        ) {
            self.driverID = driverID
            self.location = location
            self.distance = distance
            self.eta = eta
            self.acceptance = acceptance
            self.score = score
            self.history = history
        }
    }

    /// An explanation as recorded (`DecisionReplay` reads them back).
    public init(
        matching: MatchingMode,
        ranking: Ranking,
        policy: String,
        radius: Meters,
        candidates: Int,
        rank: Int,
        pickupDistance: Meters,
        eta: Duration,
        offerTimeout: Duration,
        acceptanceModel: AcceptanceModel?,
        group: Int,
        considered: [Candidate]
    ) {
        self.matching = matching
        self.ranking = ranking
        self.policy = policy
        self.radius = radius
        self.candidates = candidates
        self.rank = rank
        self.pickupDistance = pickupDistance
        self.eta = eta
        self.offerTimeout = offerTimeout
        self.acceptanceModel = acceptanceModel
        self.group = group
        self.considered = considered
    }
}

/// An offer of a ride to one driver, open until it is accepted, declined or expires.
public struct Offer: Hashable, Sendable {
    /// The ride offered.
    public let rideID: RideID
    /// The driver who holds it.
    public let driverID: DriverID
    /// Where the rider waits.
    public let pickup: Coordinate
    /// Where the rider goes.
    public let dropoff: Coordinate
    /// When the offer was made.
    public let offeredAt: Date
    /// When it lapses if the driver does not answer.
    public let expiresAt: Date
    /// Why this driver.
    public let explanation: OfferExplanation
}

/// A ride and everything dispatch knows about it.
public struct Ride: Hashable, Sendable {
    /// The ride's ID.
    public let id: RideID
    /// What was asked for.
    public let request: RideRequest
    /// Where the ride is in its life.
    public internal(set) var status: RideStatus
    /// The driver who accepted it (from `accepted` on; cleared if that driver cancels).
    public internal(set) var driverID: DriverID?
    /// The accepted driver's straight-line distance to the pickup when they accepted.
    public internal(set) var pickupDistance: Meters?
    /// The estimated time for the accepted driver to reach the pickup.
    public internal(set) var eta: Duration?
    /// The open offer, while `offered`.
    public internal(set) var offer: Offer?
    /// When each step happened.
    public internal(set) var requestedAt: Date
    public internal(set) var offeredAt: Date?
    public internal(set) var acceptedAt: Date?
    public internal(set) var arrivedAt: Date?
    public internal(set) var startedAt: Date?
    public internal(set) var completedAt: Date?
    public internal(set) var cancelledAt: Date?
    /// The sequence number of the ride's last event; the next event gets `sequence + 1`.
    public internal(set) var sequence: Int
    /// The search: radius, deadline and the drivers never to offer this ride again.
    public internal(set) var search: Search
    /// The `Idempotency-Key` the ride was created with, if any.
    public internal(set) var idempotencyKey: String?

    /// The state of the search for a driver.
    public struct Search: Hashable, Sendable {
        /// The current search radius.
        public internal(set) var radius: Meters
        /// When the search gives up (the ride becomes `unfulfilled`).
        public internal(set) var deadline: Date
        /// When the radius next widens, while searching below the maximum.
        public internal(set) var nextWidening: Date?
        /// When a searching ride next looks for a driver (greedy mode).
        public internal(set) var nextAttempt: Date?
        /// Drivers who declined, let the offer expire, or cancelled: never offered this ride again.
        public internal(set) var excluded: Set<DriverID>
    }

    /// The driver the ride ties up: the one holding its open offer, or the one assigned to it.
    public var heldBy: DriverID? { offer?.driverID ?? driverID }

    /// The rider's ID.
    public var riderID: RiderID { request.riderID }
    /// Where the rider waits.
    public var pickup: Coordinate { request.pickup }
    /// Where the rider goes.
    public var dropoff: Coordinate { request.dropoff }
}

extension Ride {
    /// Rebuilds a ride from its stored state, for recovery after a restart. Timers and open offers are
    /// not restored: `DispatchState.restore(_:now:)` resumes the search.
    public init(
        restoring id: RideID,
        request: RideRequest,
        status: RideStatus,
        driverID: DriverID?,
        pickupDistance: Meters?,
        eta: Duration?,
        requestedAt: Date,
        offeredAt: Date?,
        acceptedAt: Date?,
        arrivedAt: Date?,
        startedAt: Date?,
        completedAt: Date?,
        cancelledAt: Date?,
        sequence: Int,
        searchRadius: Meters,
        searchDeadline: Date,
        excluded: Set<DriverID>,
        idempotencyKey: String?
    ) {
        self.id = id
        self.request = request
        self.status = status
        self.driverID = driverID
        self.pickupDistance = pickupDistance
        self.eta = eta
        self.offer = nil
        self.requestedAt = requestedAt
        self.offeredAt = offeredAt
        self.acceptedAt = acceptedAt
        self.arrivedAt = arrivedAt
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.cancelledAt = cancelledAt
        self.sequence = sequence
        self.search = Search(radius: searchRadius, deadline: searchDeadline, excluded: excluded)
        self.idempotencyKey = idempotencyKey
    }
}
