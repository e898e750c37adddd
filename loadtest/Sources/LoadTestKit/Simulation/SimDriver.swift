import Geo

/// An offer as a driver app sees it.
public struct SimOffer: Equatable, Sendable {
    public var rideID: String
    public var pickup: Coordinate
    public var dropoff: Coordinate

    public init(rideID: String, pickup: Coordinate, dropoff: Coordinate) {
        self.rideID = rideID
        self.pickup = pickup
        self.dropoff = dropoff
    }
}

/// What a simulated driver decides to do with an offer.
public enum OfferAnswer: String, Equatable, Sendable {
    case accept, decline, ignore
}

/// A call a driver makes about its ride, answered before the driver's next step.
public enum RideCall: String, Equatable, Sendable, CaseIterable {
    case accept, decline, arrive, start, complete
}

/// How a driver app talks to the service.
public enum DriverTransport: String, Equatable, Sendable, Codable {
    /// One persistent channel (WebSocket) for everything.
    case channel
    /// HTTP calls, with an event stream (Server-Sent Events) for offers.
    case stream
    /// HTTP calls, polling for offers.
    case poll
}

/// One simulated driver: where it is, where it heads, and what it does about its ride.
public struct SimDriver: Equatable, Sendable {
    public enum Phase: Equatable, Sendable {
        /// Cruising toward a waypoint, available.
        case roaming
        /// Thinking about an offer until `answerAt`, then giving `answer`.
        case considering(SimOffer, answerAt: Double, answer: OfferAnswer)
        /// Driving to the pickup of an accepted ride, there at `arriveAt`.
        case toPickup(SimOffer, arriveAt: Double)
        /// At the pickup; the rider boards until `startAt`.
        case boarding(SimOffer, startAt: Double)
        /// Driving the rider to the drop-off, there at `arriveAt`.
        case toDropoff(SimOffer, arriveAt: Double)

        /// When this phase's next step is due (nil while roaming).
        public var deadline: Double? {
            switch self {
            case .roaming: nil
            case .considering(_, let at, _), .toPickup(_, let at), .boarding(_, let at), .toDropoff(_, let at): at
            }
        }
    }

    public let id: String
    public var position: Coordinate
    public var waypoint: Coordinate
    public var phase: Phase = .roaming
    /// The simulated time up to which `position` is current (cars move lazily, when looked at).
    public var movedAt: Double
    /// The call in flight, if any: the driver waits for its answer before its next step.
    public var pending: (call: RideCall, rideID: String)?
    /// How the app talks to the service.
    public let transport: DriverTransport
    /// Listens on an HTTP event stream.
    public var streams: Bool { transport == .stream }
    public var nextReportAt: Double
    public var nextPollAt: Double
    /// The last ride whose offer this driver answered, so a repeated sighting is not a new offer.
    public var lastAnsweredRide: String?
    /// This driver's chance of accepting an offer (`Scenario.acceptProbabilitySpread`).
    public var acceptProbability = 1.0
    /// The cohort its token names (`Scenario.cohorts`), if any.
    public var cohort: String?
    /// Offers it took up, and trips it completed: the fairness figures.
    public var offers = 0
    public var trips = 0

    /// - Parameter firstPollAt: When a polling driver first asks for an offer (after its first report,
    ///   or the server does not know it yet).
    public init(
        id: String,
        position: Coordinate,
        waypoint: Coordinate,
        transport: DriverTransport,
        firstReportAt: Double,
        firstPollAt: Double
    ) {
        self.id = id
        self.position = position
        self.waypoint = waypoint
        self.transport = transport
        self.nextReportAt = firstReportAt
        self.nextPollAt = firstPollAt
        self.movedAt = 0
    }

    /// The ride this driver is busy with (considering, accepted or driving), if any.
    public var rideID: String? {
        switch phase {
        case .roaming: nil
        case .considering(let offer, _, _), .toPickup(let offer, _), .boarding(let offer, _), .toDropoff(let offer, _):
            offer.rideID
        }
    }

    /// Whether the driver holds an accepted ride (the server must not offer it another).
    public var hasRide: Bool {
        switch phase {
        case .roaming, .considering: false
        case .toPickup, .boarding, .toDropoff: true
        }
    }

    public static func == (lhs: SimDriver, rhs: SimDriver) -> Bool {
        lhs.id == rhs.id && lhs.position == rhs.position && lhs.phase == rhs.phase
            && lhs.pending?.call == rhs.pending?.call && lhs.pending?.rideID == rhs.pending?.rideID
    }
}
