import Geo
import HeapModule

/// What the fleet asks the runner to send.
public enum FleetAction: Equatable, Sendable {
    /// `PUT /v1/drivers/{id}/location`.
    case report(driverID: String, position: Coordinate)
    /// `GET /v1/drivers/{id}/offer` (drivers without an event stream).
    case pollOffer(driverID: String)
    /// `POST /v1/rides/{rideID}/{call}` with the driver's ID.
    case call(RideCall, driverID: String, rideID: String)
}

/// Every simulated driver, as one state machine: the runner feeds it the time, offers and the answers
/// to its calls, and sends the actions it returns. No I/O, no clock: times are seconds since the run
/// started, so tests drive it step by step.
///
/// Cars move lazily: a driver's position is brought up to date when it reports or changes phase, and
/// arrivals are known in advance (distance / speed). A tick costs what is due, not the fleet's size:
/// reports, polls and the other steps wait in heaps of deadlines. The runner can therefore tick every
/// few milliseconds and send each report close to its time, as phones spread over the interval would,
/// instead of in bursts. (A cursor walking a fixed report order, as before, is cheaper but wrong after
/// a stall: drivers overdue by different numbers of intervals no longer come due in that order, the
/// cursor waits on one due last, and the whole fleet then reports in one burst every interval.)
public struct Fleet: Sendable {
    /// A driver's next step, due at `at` (stale once the driver's phase has moved on).
    struct Deadline: Comparable, Sendable {
        var at: Double
        var index: Int

        static func < (lhs: Deadline, rhs: Deadline) -> Bool { (lhs.at, lhs.index) < (rhs.at, rhs.index) }
    }

    public private(set) var drivers: [SimDriver]
    private var indexByID: [String: Int]
    /// Every driver's next report.
    private var reports: Heap<Deadline>
    /// Every polling driver's next poll.
    private var polls: Heap<Deadline>
    /// Whether the first tick has started the schedules.
    private var started = false
    private var deadlines = Heap<Deadline>()
    private let city: CityMap
    private var random: SplitMix64
    private let scenario: Scenario
    /// Simulated meters per real second.
    public let metersPerSecond: Double
    /// Offers that reached a driver the simulation thought was holding a ride (its ride had ended
    /// unheard, e.g. cancelled by the rider while the driver polls).
    public private(set) var offersWhileBusy = 0

    public init(scenario: Scenario, city: CityMap, idPrefix: String = "lt-d") {
        self.scenario = scenario
        self.city = city
        random = SplitMix64(seed: scenario.seed &* 0x2545_F491_4F6C_DD1D &+ 7)
        metersPerSecond = scenario.driverSpeedKmh / 3.6 * scenario.timeCompression
        var drivers: [SimDriver] = []
        drivers.reserveCapacity(scenario.drivers)
        for index in 0..<scenario.drivers {
            let position = city.pickup(&random)
            // Spread the first reports over one interval, as apps coming online would.
            let firstReport = random.unit() * scenario.locationIntervalSeconds
            drivers.append(
                SimDriver(
                    id: "\(idPrefix)\(index)",
                    position: position,
                    waypoint: city.pickup(&random),
                    transport: index < scenario.driverChannels
                        ? .channel : index < scenario.driverChannels + scenario.driverStreams ? .stream : .poll,
                    firstReportAt: firstReport,
                    firstPollAt: firstReport + scenario.offerPollSeconds
                )
            )
        }
        // Habits from a generator of their own: a scenario without spread draws the same city as before.
        var habits = SplitMix64(seed: scenario.seed &+ 0x5EED)
        for index in drivers.indices {
            let spread = scenario.acceptProbabilitySpread
            let drawn = spread > 0 ? habits.uniform(-spread...spread) : 0
            drivers[index].acceptProbability = min(1, max(0.02, scenario.acceptProbability + drawn))
        }
        // Cohorts from a generator of their own, too.
        var cohortDraws = SplitMix64(seed: scenario.seed &+ 0xC0_4027)
        for index in drivers.indices {
            var draw = cohortDraws.unit()
            for cohort in scenario.cohorts ?? [] {
                if draw < cohort.share {
                    drivers[index].cohort = cohort.name
                    break
                }
                draw -= cohort.share
            }
        }
        self.drivers = drivers
        indexByID = Dictionary(uniqueKeysWithValues: drivers.enumerated().map { ($1.id, $0) })
        reports = Heap(drivers.indices.map { Deadline(at: drivers[$0].nextReportAt, index: $0) })
        polls = Heap(
            drivers.indices.filter { drivers[$0].transport == .poll }.map {
                Deadline(at: drivers[$0].nextPollAt, index: $0)
            }
        )
    }

    public func driver(_ id: String) -> SimDriver? {
        indexByID[id].map { drivers[$0] }
    }

    /// Everything due by `now`. A driver overdue by several intervals (a stalled runner) reports once
    /// and keeps its schedule; it does not send the missed reports in a burst.
    public mutating func tick(now: Double) -> [FleetAction] {
        if !started {
            started = true
            startSchedules(at: now)
        }
        var actions: [FleetAction] = []
        while let first = reports.min, first.at <= now {
            _ = reports.popMin()
            let index = first.index
            move(index, to: now)
            actions.append(.report(driverID: drivers[index].id, position: drivers[index].position))
            repeat {
                drivers[index].nextReportAt += scenario.locationIntervalSeconds
            } while drivers[index].nextReportAt <= now
            reports.insert(Deadline(at: drivers[index].nextReportAt, index: index))
        }
        while let first = polls.min, first.at <= now {
            _ = polls.popMin()
            let index = first.index
            repeat {
                drivers[index].nextPollAt += scenario.offerPollSeconds
            } while drivers[index].nextPollAt <= now
            polls.insert(Deadline(at: drivers[index].nextPollAt, index: index))
            if drivers[index].phase == .roaming, drivers[index].pending == nil {
                actions.append(.pollOffer(driverID: drivers[index].id))
            }
        }
        while let first = deadlines.min, first.at <= now {
            _ = deadlines.popMin()
            let driver = drivers[first.index]
            // Stale: the phase changed since (a call's answer or the ride's end moved it on).
            guard driver.pending == nil, driver.phase.deadline == first.at else { continue }
            if let action = step(first.index, now: now) { actions.append(action) }
        }
        return actions
    }

    /// The drivers come online when the fleet starts: their first reports and polls, drawn over one
    /// interval from time zero, are moved to follow the first tick. A runner that starts ticking late
    /// (after opening thousands of channels) would otherwise find the whole fleet overdue at once.
    private mutating func startSchedules(at now: Double) {
        guard now > 0 else { return }
        for index in drivers.indices {
            drivers[index].nextReportAt += now
            drivers[index].nextPollAt += now
        }
        reports = Heap(reports.unordered.map { Deadline(at: $0.at + now, index: $0.index) })
        polls = Heap(polls.unordered.map { Deadline(at: $0.at + now, index: $0.index) })
    }

    /// Sets a driver's phase, scheduling its next step.
    private mutating func enter(_ phase: SimDriver.Phase, _ index: Int) {
        drivers[index].phase = phase
        if let at = phase.deadline { deadlines.insert(Deadline(at: at, index: index)) }
    }

    /// An offer seen on the driver's stream or by a poll.
    /// - Returns: Whether the driver took it up (false for a repeat or a driver that is busy).
    @discardableResult
    public mutating func offered(_ offer: SimOffer, to driverID: String, now: Double) -> Bool {
        guard let index = indexByID[driverID] else { return false }
        let driver = drivers[index]
        if driver.rideID == offer.rideID || driver.lastAnsweredRide == offer.rideID { return false }
        guard driver.pending == nil else { return false }
        if driver.hasRide {
            // The server offers a driver nothing while it holds a ride, so this one's ride ended without
            // the driver hearing (a rider's cancellation reaches a polling driver only through a refused
            // call). Counted; whether the server really double-booked is judged from its own events by
            // the consistency check.
            offersWhileBusy += 1
            drivers[index].lastAnsweredRide = driver.rideID
            drivers[index].phase = .roaming
        }
        guard drivers[index].phase == .roaming else { return false }
        drivers[index].offers += 1
        move(index, to: now)
        let answer: OfferAnswer =
            random.chance(drivers[index].acceptProbability)
            ? .accept : random.chance(scenario.declineShare) ? .decline : .ignore
        let think = random.uniform(scenario.thinkTimeMinSeconds...scenario.thinkTimeMaxSeconds)
        enter(.considering(offer, answerAt: now + think, answer: answer), index)
        return true
    }

    /// The ride ended or left the driver (cancelled, expired, given to another): back to roaming,
    /// unless a call about it is in flight (its answer settles the driver).
    public mutating func rideEnded(_ rideID: String, for driverID: String, now: Double) {
        guard let index = indexByID[driverID], drivers[index].rideID == rideID, drivers[index].pending == nil else {
            return
        }
        move(index, to: now)
        drivers[index].lastAnsweredRide = rideID
        drivers[index].phase = .roaming
    }

    /// The answer to a call the fleet asked for.
    public mutating func finished(_ call: RideCall, rideID: String, by driverID: String, succeeded: Bool, now: Double) {
        guard let index = indexByID[driverID], let pending = drivers[index].pending,
            pending.call == call, pending.rideID == rideID
        else { return }
        drivers[index].pending = nil
        move(index, to: now)
        guard succeeded, drivers[index].rideID == rideID else {
            drivers[index].phase = .roaming
            return
        }
        if call == .complete { drivers[index].trips += 1 }
        switch (call, drivers[index].phase) {
        case (.accept, .considering(let offer, _, _)):
            let distance = drivers[index].position.distance(to: offer.pickup).value
            enter(.toPickup(offer, arriveAt: now + distance / metersPerSecond), index)
        case (.arrive, .toPickup(let offer, _)):
            enter(.boarding(offer, startAt: now + scenario.boardingSeconds), index)
        case (.start, .boarding(let offer, _)):
            let distance = offer.pickup.distance(to: offer.dropoff).value
            enter(.toDropoff(offer, arriveAt: now + distance / metersPerSecond), index)
        default:
            // Declined or completed: free again.
            drivers[index].phase = .roaming
        }
    }

    /// The step due at the end of the driver's phase.
    private mutating func step(_ index: Int, now: Double) -> FleetAction? {
        move(index, to: now)
        let driver = drivers[index]
        switch driver.phase {
        case .roaming:
            return nil
        case .considering(let offer, _, let answer):
            drivers[index].lastAnsweredRide = offer.rideID
            switch answer {
            case .accept: return request(.accept, index, offer)
            case .decline: return request(.decline, index, offer)
            case .ignore:
                // Let it expire: the server holds the driver until then and offers it nothing else.
                drivers[index].phase = .roaming
                return nil
            }
        case .toPickup(let offer, _):
            drivers[index].position = offer.pickup
            return request(.arrive, index, offer)
        case .boarding(let offer, _):
            return request(.start, index, offer)
        case .toDropoff(let offer, _):
            drivers[index].position = offer.dropoff
            return request(.complete, index, offer)
        }
    }

    private mutating func request(_ call: RideCall, _ index: Int, _ offer: SimOffer) -> FleetAction {
        drivers[index].pending = (call, offer.rideID)
        return .call(call, driverID: drivers[index].id, rideID: offer.rideID)
    }

    /// Brings the driver's position up to `now`: toward its pickup or drop-off when driving, toward its
    /// waypoint (a new one on arrival) when roaming, standing still otherwise.
    private mutating func move(_ index: Int, to now: Double) {
        let seconds = now - drivers[index].movedAt
        drivers[index].movedAt = now
        guard seconds > 0 else { return }
        let target: Coordinate
        switch drivers[index].phase {
        case .roaming: target = drivers[index].waypoint
        case .toPickup(let offer, _): target = offer.pickup
        case .toDropoff(let offer, _): target = offer.dropoff
        case .considering, .boarding: return
        }
        let moved = Movement.advance(
            from: drivers[index].position,
            toward: target,
            metersPerSecond: metersPerSecond,
            seconds: seconds
        )
        drivers[index].position = moved.position
        if moved.arrived, drivers[index].phase == .roaming {
            drivers[index].waypoint = city.pickup(&random)
        }
    }
}
