import DispatchCore
import Hummingbird
import HummingbirdAuth

/// Who may do what (docs/SECURITY.md): a driver acts only as itself, a rider only as itself, an
/// operator as anyone. The acting subject is the token's; an ID a path or body names is checked
/// against it, never trusted.
extension Caller {
    /// Passes when the caller may act as `driver`: that driver, or an operator.
    /// - Throws: `403 forbidden`.
    func mayActAs(_ driver: DriverID) throws(APIError) {
        switch role {
        case .ops: return
        case .driver where subject == driver.rawValue: return
        case .driver: throw .forbidden("a driver's token acts only for that driver")
        case .rider: throw .forbidden("this route is for drivers")
        }
    }

    /// Passes when the caller may act as `rider`: that rider, or an operator.
    /// - Throws: `403 forbidden`.
    func mayActAs(_ rider: RiderID) throws(APIError) {
        switch role {
        case .ops: return
        case .rider where subject == rider.rawValue: return
        case .rider: throw .forbidden("a rider's token acts only for that rider")
        case .driver: throw .forbidden("this route is for riders")
        }
    }

    /// The rider a command acts as: the caller, or for an operator the rider the body names.
    /// - Parameter named: The body's `riderId`, if it has one; it must be the caller's own.
    /// - Throws: `403 forbidden`, or `400 missing_field` for an operator that names nobody.
    func actingRider(named: String?) throws -> RiderID {
        switch role {
        case .rider:
            if let named, named != subject { throw APIError.forbidden("riderId must be the token's own subject") }
            return try RiderID(subject)
        case .ops:
            guard let named else {
                throw APIError(.badRequest, code: "missing_field", "an operator must name the rider ('riderId')")
            }
            return try RiderID(named)
        case .driver:
            throw APIError.forbidden("this route is for riders")
        }
    }

    /// The driver a command acts as: the caller, or for an operator the driver the body names.
    /// - Parameter named: The body's `driverId`, if it has one; it must be the caller's own.
    /// - Throws: `403 forbidden`, or `400 missing_field` for an operator that names nobody.
    func actingDriver(named: String?) throws -> DriverID {
        switch role {
        case .driver:
            if let named, named != subject { throw APIError.forbidden("driverId must be the token's own subject") }
            return try DriverID(subject)
        case .ops:
            guard let named else {
                throw APIError(.badRequest, code: "missing_field", "an operator must name the driver ('driverId')")
            }
            return try DriverID(named)
        case .rider:
            throw APIError.forbidden("this route is for drivers")
        }
    }

    /// Whether the caller may see a driver: itself, an operator, or a rider whose ride that driver is
    /// coming to pick up (`accepted` or `arrived`).
    /// - Parameter hub: The rides and offers as clients see them (published, so durable).
    func maySee(_ driver: Driver, in hub: EventHub) -> Bool {
        switch role {
        case .ops: return true
        case .driver: return driver.id.rawValue == subject
        case .rider:
            guard let rideID = driver.rideID, let ride = hub.ride(rideID) else { return false }
            return ride.riderID.rawValue == subject && (ride.status == .accepted || ride.status == .arrived)
        }
    }

    /// Whether the caller may see a ride: its rider, its driver (or the driver it is offered to), or an
    /// operator. Any other ride answers as one that does not exist.
    func maySee(_ ride: Ride, in hub: EventHub) -> Bool {
        switch role {
        case .ops: return true
        case .rider: return ride.riderID.rawValue == subject
        case .driver:
            if ride.driverID?.rawValue == subject { return true }
            guard let driver = try? DriverID(subject) else { return false }
            return hub.offer(heldBy: driver)?.rideID == ride.id
        }
    }
}

extension AuthRequestContext where Identity == Caller {
    /// The request's verified caller (set by `BearerAuthenticator` on every `/v1` route).
    /// - Throws: `401 missing_token` if none was verified.
    func caller() throws(APIError) -> Caller {
        guard let identity else { throw .missingToken }
        return identity
    }
}
