import Foundation
import Geo
import HeapModule

extension DispatchState {
    /// Fires every timer that is due: offer expiries, radius widening, retries, batches and search
    /// timeouts, in time order. Also forgets finished rides past their retention.
    /// - Parameter now: The service's current time.
    public mutating func tick(now: Date) {
        // Paused, nothing fires: `resume(now:)` moves every timer by the pause, then ticks.
        while pausedSince == nil, let timer = timers.min, timer.at <= now {
            _ = timers.removeMin()
            fire(timer, now: now)
        }
        evictFinishedRides(now: now)
    }

    private mutating func fire(_ timer: Timer, now: Date) {
        if case .batch = timer.kind {
            if configuration.matching == .batch, nextBatch == timer.at { runBatch(now: now) }
            return
        }
        // A ride's timer is stale when the ride has moved on since it was set: then it does nothing.
        guard let id = timer.rideID, var ride = rides[id] else { return }
        switch timer.kind {
        case .offerExpiry(let driver):
            guard ride.status == .offered, let offer = ride.offer, offer.driverID == driver, offer.expiresAt == timer.at
            else { return }
            drivers.recordOffer(driver, .expired, now: now, halfLife: configuration.acceptance.halfLife)
            searchAgain(&ride, without: driver, because: .offerExpired, now: now)
        case .searchTimeout:
            // An open offer at the deadline plays out; the search ends if it comes back empty-handed.
            // A timer set for an earlier deadline is stale: the search was given more time since (a
            // ride whose assigned driver fell through searches for a whole timeout again).
            guard ride.status == .requested, timer.at >= ride.search.deadline else { return }
            unfulfill(&ride, now: now)
        case .widenSearch:
            guard ride.search.nextWidening == timer.at else { return }
            ride.search.nextWidening = nil
            guard ride.status == .requested else {
                rides[id] = ride
                return
            }
            ride.search.radius = min(configuration.maxSearchRadius, ride.search.radius + configuration.searchRadiusStep)
            emit(.searchWidened, for: &ride, at: now, searchRadius: ride.search.radius)
            rides[id] = ride
            startSearching(id, now: now)
        case .retrySearch:
            guard configuration.matching == .greedy, ride.status == .requested, ride.search.nextAttempt == timer.at
            else { return }
            attemptGreedyMatch(id, now: now)
        case .batch:
            return
        case .pickupDeadline, .driverSilence, .tripDeadline:
            fireWatchdog(timer.kind, ride: &ride, at: timer.at, now: now)
        }
    }

    /// A ride that is `requested` (new, or back after a decline, expiry or driver cancellation) looks
    /// for a driver: at once in greedy mode, at the next batch in batch mode. Past its deadline it is
    /// unfulfilled instead.
    mutating func startSearching(_ id: RideID, now: Date) {
        guard var ride = rides[id], ride.status == .requested else { return }
        guard now < ride.search.deadline else {
            unfulfill(&ride, now: now)
            return
        }
        searching.insert(id)
        if ride.search.radius < configuration.maxSearchRadius, ride.search.nextWidening.map({ $0 <= now }) ?? true {
            let at = now + configuration.searchWidenInterval.timeInterval
            ride.search.nextWidening = at
            schedule(.widenSearch, at: at, ride: id)
        }
        rides[id] = ride
        switch configuration.matching {
        case .greedy:
            attemptGreedyMatch(id, now: now)
        case .batch:
            if nextBatch == nil {
                let at = now + configuration.batchWindow.timeInterval
                nextBatch = at
                schedule(.batch, at: at, ride: nil)
            }
        }
    }

    /// Greedy: offers the ride to its best-ranked eligible driver, or looks again after `retryInterval`.
    private mutating func attemptGreedyMatch(_ id: RideID, now: Date) {
        guard var ride = rides[id], ride.status == .requested else { return }
        let candidates = isPaused ? [] : candidates(for: ride, now: now)
        if let choice = Matcher.greedy([candidates]).first ?? nil {
            makeOffer(&ride, candidates: candidates, choice: choice, group: 1, now: now)
        } else {
            let at = now + configuration.retryInterval.timeInterval
            ride.search.nextAttempt = at
            rides[id] = ride
            schedule(.retrySearch, at: at, ride: id)
        }
    }

    /// Batch: assigns every waiting ride at once, minimising the total pickup distance (or ETA), then schedules
    /// the next batch while rides are still waiting.
    private mutating func runBatch(now: Date) {
        nextBatch = nil
        var waiting: [Ride] = []
        for ride in searching.compactMap({ rides[$0] }).sorted(by: { ($0.requestedAt, $0.id) < ($1.requestedAt, $1.id) }
        ) {
            guard ride.status == .requested else { continue }
            if now >= ride.search.deadline {
                var expired = ride
                unfulfill(&expired, now: now)
            } else {
                waiting.append(ride)
            }
        }
        let candidateLists = waiting.map { candidates(for: $0, now: now) }
        // Each decision records how many rides competed with it, so a replay knows when it has them all.
        var groupSize = [Int](repeating: 1, count: waiting.count)
        for group in Matcher.independentGroups(candidateLists) {
            for ride in group { groupSize[ride] = group.count }
        }
        for (index, choice) in Matcher.batch(candidateLists).enumerated() {
            guard let choice else { continue }
            var ride = waiting[index]
            makeOffer(&ride, candidates: candidateLists[index], choice: choice, group: groupSize[index], now: now)
        }
        if !searching.isEmpty {
            let at = now + configuration.batchWindow.timeInterval
            nextBatch = at
            schedule(.batch, at: at, ride: nil)
        }
    }

    private mutating func candidates(for ride: Ride, now: Date) -> Matcher.Candidates {
        // With a road graph every ETA is by road (comparable across rankings); only the rankings by
        // ETA drop a driver the roads do not bring in time.
        let byRoad = roads != nil
        let nearest = drivers.candidates(
            near: ride.pickup,
            radius: ride.search.radius,
            limit: configuration.ranking == .distance ? configuration.candidateLimit : configuration.roadCandidateLimit,
            excluding: ride.search.excluded,
            now: now
        )
        let timed =
            byRoad
            ? rankedByRoad(nearest, pickup: ride.pickup, byDistance: configuration.ranking == .distance)
            : nearest.map { Matcher.Candidate($0, eta: configuration.eta(for: $0.distance)) }
        return configuration.ranking == .etaAcceptance ? rankedByAcceptance(timed, now: now) : timed
    }

    /// Scores each timed candidate by the expected time until a driver is on the way
    /// (`AcceptanceModel.score`) and ranks them lowest first (ties: sooner, then nearer, then by ID).
    private func rankedByAcceptance(_ timed: Matcher.Candidates, now: Date) -> Matcher.Candidates {
        let model = configuration.acceptance
        var ranked = timed.map { candidate in
            let history = (drivers.driver(candidate.key)?.offers ?? OfferHistory())
                .decayed(to: now, halfLife: model.halfLife)
            let acceptance = model.acceptance(history, now: now)
            let lost = model.lostOnMiss(history, now: now, offerTimeout: configuration.offerTimeout)
            return Matcher.Candidate(
                key: candidate.key,
                coordinate: candidate.coordinate,
                distance: candidate.distance,
                eta: candidate.eta,
                cost: model.score(eta: candidate.eta, acceptance: acceptance, lostOnMiss: lost),
                acceptance: acceptance,
                history: history
            )
        }
        ranked.sort { ($0.cost, $0.eta, $0.distance, $0.key) < ($1.cost, $1.eta, $1.distance, $1.key) }
        return ranked
    }

    /// Times the drivers to the pickup by road, with one search, and ranks them fastest first (ties:
    /// nearer, then by ID). A driver the roads do not bring there within `maximumPickupETA` is left
    /// out; one off the roads, or every one when the pickup is, is timed in a straight line. With
    /// `byDistance` the order stays nearest first and nobody is left out: the road times are for the
    /// record.
    private mutating func rankedByRoad(
        _ nearest: [SpatialIndex<DriverID>.Neighbor],
        pickup: Coordinate,
        byDistance: Bool
    ) -> Matcher.Candidates {
        let times =
            roads?.travelTimes(from: nearest.map(\.coordinate), to: pickup, limit: configuration.maximumPickupETA) ?? []
        let graph = roads?.graph
        let snapRadius = roads?.snapRadius ?? .zero
        let onRoads = { (place: Coordinate) in graph?.snap(place, within: snapRadius) != nil }
        let pickupOnRoads = onRoads(pickup)
        var ranked: Matcher.Candidates = []
        ranked.reserveCapacity(nearest.count)
        for (slot, neighbor) in nearest.enumerated() {
            let eta: Duration
            if slot < times.count, let time = times[slot] {
                eta = time
            } else if !byDistance, pickupOnRoads, onRoads(neighbor.coordinate) {
                continue  // on the roads, and not there in time
            } else {
                eta = configuration.eta(for: neighbor.distance)
            }
            ranked.append(
                .init(
                    key: neighbor.key,
                    coordinate: neighbor.coordinate,
                    distance: neighbor.distance,
                    eta: eta,
                    cost: byDistance ? neighbor.distance.value : eta.timeInterval
                )
            )
        }
        if !byDistance { ranked.sort { ($0.cost, $0.distance, $0.key) < ($1.cost, $1.distance, $1.key) } }
        return ranked
    }

    /// The ranking in force: `eta` without a road graph ranks by distance (and says so).
    var effectiveRanking: Ranking {
        configuration.ranking == .eta && roads == nil ? .distance : configuration.ranking
    }

    /// Reserves the chosen driver and offers them the ride, recording why.
    private mutating func makeOffer(
        _ ride: inout Ride,
        candidates: Matcher.Candidates,
        choice: Int,
        group: Int,
        now: Date
    ) {
        let chosen = candidates[choice]
        drivers.reserve(chosen.key, for: ride.id)
        searching.remove(ride.id)
        let offer = Offer(
            rideID: ride.id,
            driverID: chosen.key,
            pickup: ride.pickup,
            dropoff: ride.dropoff,
            offeredAt: now,
            expiresAt: now + configuration.offerTimeout.timeInterval,
            explanation: OfferExplanation(
                matching: configuration.matching,
                ranking: effectiveRanking,
                policy: configuration.ranking == .etaAcceptance
                    ? configuration.acceptance.version : effectiveRanking.rawValue,
                radius: ride.search.radius,
                candidates: candidates.count,
                rank: choice + 1,
                pickupDistance: chosen.distance,
                eta: chosen.eta,
                offerTimeout: configuration.offerTimeout,
                acceptanceModel: configuration.ranking == .etaAcceptance ? configuration.acceptance : nil,
                group: group,
                considered: candidates.map {
                    OfferExplanation.Candidate(
                        driverID: $0.key,
                        location: $0.coordinate,
                        distance: $0.distance,
                        eta: $0.eta,
                        acceptance: $0.acceptance,
                        score: $0.cost,
                        history: $0.history
                    )
                }
            )
        )
        ride.status = .offered
        ride.offer = offer
        ride.offeredAt = now
        ride.search.nextAttempt = nil
        emit(.rideOffered, for: &ride, at: now, driver: chosen.key, offer: offer)
        rides[ride.id] = ride
        schedule(.offerExpiry(chosen.key), at: offer.expiresAt, ride: ride.id)
    }

    /// No driver accepted in time: the ride ends unfulfilled.
    private mutating func unfulfill(_ ride: inout Ride, now: Date) {
        ride.status = .unfulfilled
        emit(.rideUnfulfilled, for: &ride, at: now)
        finish(&ride, now: now)
    }
}
