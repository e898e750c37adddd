import Foundation

/// What a driver did with its recent offers, each outcome's weight halving every half-life: what
/// `Ranking.etaAcceptance` estimates its next answer from (`AcceptanceModel`).
///
/// Three decaying counts and the time they were last brought up to date: no list of offers is kept,
/// so a driver's history costs the same after ten offers or ten thousand. It lives in the driver's
/// entry and is forgotten with it.
public struct OfferHistory: Hashable, Sendable {
    /// How an offer ended, for the driver.
    public enum Outcome: Hashable, Sendable {
        case accepted, declined, expired
    }

    public private(set) var accepted = 0.0
    public private(set) var declined = 0.0
    public private(set) var expired = 0.0
    /// When the counts were last decayed.
    private var asOf: Date?

    public init() {}

    /// A history with these (already decayed) counts as of `asOf`: a decision record's, read back for a
    /// replay.
    public init(accepted: Double, declined: Double, expired: Double, asOf: Date) {
        self.accepted = accepted
        self.declined = declined
        self.expired = expired
        self.asOf = asOf
    }

    /// Adds an outcome at `now`, after decaying what came before.
    mutating func record(_ outcome: Outcome, now: Date, halfLife: Duration) {
        self = decayed(to: now, halfLife: halfLife)
        switch outcome {
        case .accepted: accepted += 1
        case .declined: declined += 1
        case .expired: expired += 1
        }
    }

    /// The counts as they stand at `now`: each halved for every `halfLife` since they were updated.
    public func decayed(to now: Date, halfLife: Duration) -> OfferHistory {
        guard let asOf, now > asOf, halfLife > .zero else {
            var same = self
            same.asOf = max(asOf ?? now, now)
            return same
        }
        let factor = pow(0.5, now.timeIntervalSince(asOf) / halfLife.timeInterval)
        var result = self
        result.accepted *= factor
        result.declined *= factor
        result.expired *= factor
        result.asOf = now
        return result
    }

    /// All outcomes, decayed.
    public var total: Double { accepted + declined + expired }
}

/// How `Ranking.etaAcceptance` turns a driver's offer history into a chance of accepting and a score.
///
/// The score of a candidate is the expected time until a driver is on the way, when offers go down
/// the ranked list one at a time until one is accepted:
///
///     score = ETA + weight × lost × (1 − p) / p
///
/// `p` is the chance the driver accepts. `lost` is the time an offer it does not accept costs the
/// rider: the offer timeout when it lets the offer expire, `declineCost` when it declines, mixed by the
/// driver's own history. Offering in increasing order of this score minimises the expected time
/// until someone accepts plus that driver's ETA. (Swapping two neighbours i, j changes the expectation
/// by `c_i·p_j − c_j·p_i`, with `c = p·ETA + (1 − p)·lost`, so the order by `c / p` is optimal.)
/// `weight` 0 ranks by ETA alone.
public struct AcceptanceModel: Hashable, Sendable {
    /// The chance of accepting assumed for a driver with no history (`ACCEPTANCE_PRIOR`).
    public var prior = 0.8
    /// How many offers the prior is worth against the driver's own history.
    public var priorWeight = 2.0
    /// How fast old outcomes lose their weight (`ACCEPTANCE_HALF_LIFE_SECONDS`).
    public var halfLife: Duration = .seconds(3_600)
    /// What a declined offer costs the rider: the time to decline and re-offer
    /// (`DECLINE_COST_SECONDS`). An expired one costs the offer timeout.
    public var declineCost: Duration = .seconds(5)
    /// How much the cost of a miss counts against the ETA (`ACCEPTANCE_WEIGHT`).
    public var weight = 1.0
    /// The lowest chance a driver is given, so that one who declined everything still has a score.
    public static let minimumAcceptance = 0.02

    public init() {}

    /// The version of the scoring rule and its settings, recorded with every decision, so that a
    /// replay knows which rule made it.
    public var version: String {
        "eta-acceptance/1 prior=\(prior) priorWeight=\(priorWeight) halfLife=\(Int(halfLife.timeInterval))s "
            + "declineCost=\(Int(declineCost.timeInterval))s weight=\(weight)"
    }

    /// The chance that a driver with this history accepts its next offer.
    public func acceptance(_ history: OfferHistory, now: Date) -> Double {
        let current = history.decayed(to: now, halfLife: halfLife)
        let estimate = (current.accepted + prior * priorWeight) / (current.total + priorWeight)
        return max(Self.minimumAcceptance, min(1, estimate))
    }

    /// The expected time a miss by this driver costs: its own mix of declines and expiries, or an even
    /// mix without history.
    public func lostOnMiss(_ history: OfferHistory, now: Date, offerTimeout: Duration) -> Double {
        let current = history.decayed(to: now, halfLife: halfLife)
        let misses = current.declined + current.expired
        let declineShare = misses > 0 ? current.declined / misses : 0.5
        return declineShare * declineCost.timeInterval + (1 - declineShare) * offerTimeout.timeInterval
    }

    /// The score: the ETA plus the weighted expected cost of the misses before someone accepts.
    public func score(eta: Duration, acceptance: Double, lostOnMiss: Double) -> Double {
        score(etaSeconds: eta.timeInterval, acceptance: acceptance, lostOnMiss: lostOnMiss)
    }

    /// The score from an ETA in seconds (a decision record's unit).
    public func score(etaSeconds: Double, acceptance: Double, lostOnMiss: Double) -> Double {
        etaSeconds + weight * lostOnMiss * (1 - acceptance) / acceptance
    }
}
