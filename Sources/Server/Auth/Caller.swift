import DispatchCore
import Foundation

/// Who a request acts as: the verified subject of its bearer token, never anything in its body or path.
struct Caller: Sendable, Equatable {
    /// What a caller may do.
    enum Role: String, Sendable, CaseIterable, Codable {
        /// Requests rides for itself and follows them.
        case rider
        /// Reports its own location and acts on the offers and rides it holds.
        case driver
        /// An operator: reads everything and may act on any ride (support).
        case ops
    }

    /// The token's `sub`: a rider's or driver's ID (the same rule as the API's IDs), or an operator's.
    let subject: String
    let role: Role
    /// The token's `exp`: the caller is not trusted at or after it.
    let expiresAt: Date
    /// The token's `nbf`, if it had one: the caller is not trusted before it.
    let notBefore: Date?
    init(subject: String, role: Role, expiresAt: Date, notBefore: Date? = nil) {
        self.subject = subject
        self.role = role
        self.expiresAt = expiresAt
        self.notBefore = notBefore
    }

    /// Whether a cohort label (a token's `cohort` claim: a driver's fleet or franchise) is well formed: 1-32 characters of a-z, 0-9, '_' or '-'.
    static func isValidCohort(_ label: String) -> Bool {
        (1...32).contains(label.utf8.count)
            && label.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 || $0 == 45 }
    }

    /// The caller every request acts as with `AUTH=disabled`: an operator, so nothing is refused.
    static let unauthenticated = Caller(subject: "anonymous", role: .ops, expiresAt: .distantFuture)

    /// Whether the token is valid at `now`.
    func isValid(at now: Date) -> Bool {
        now < expiresAt && notBefore.map { now >= $0 } ?? true
    }

    /// The driver this caller is, if it is one.
    var driverID: DriverID? {
        role == .driver ? try? DriverID(subject) : nil
    }

    /// The operator this caller is, if it is one: what a ride's events record when it acts on the ride
    /// for its rider or driver.
    var operatorID: OperatorID? {
        role == .ops ? OperatorID(subject) : nil
    }

    /// The rider this caller is, if it is one.
    var riderID: RiderID? {
        role == .rider ? try? RiderID(subject) : nil
    }
}
