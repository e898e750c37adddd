import DispatchCore
import Foundation
import Geo
import Testing

let cityHall = try! Coordinate(latitude: 37.5665, longitude: 126.978)
let gangnam = try! Coordinate(latitude: 37.4979, longitude: 127.0276)

func driverID(_ raw: String) -> DriverID { try! DriverID(raw) }
func riderID(_ raw: String) -> RiderID { try! RiderID(raw) }

/// A scripted run of `DispatchState` with a hand-moved clock: every test reads as a timeline.
struct DispatchScript {
    var state: DispatchState
    var now = Date(timeIntervalSince1970: 1_800_000_000)
    /// Every event so far, in order.
    var events: [RideEvent] = []
    /// Every driver status change to be stored, in order.
    var statusChanges: [DriverStatusChange] = []
    var rideNumber = 0

    init(_ configure: (inout DispatchConfiguration) -> Void = { _ in }) {
        var configuration = DispatchConfiguration()
        configure(&configuration)
        state = DispatchState(configuration: configuration)
    }

    /// Moves time forward and fires what is due.
    mutating func advance(_ seconds: TimeInterval) {
        now += seconds
        state.tick(now: now)
        collect()
    }

    /// A driver reports from `distance` metres `bearing` of `origin`.
    @discardableResult
    mutating func driver(
        _ id: String,
        at origin: Coordinate = cityHall,
        distance: Double = 0,
        bearing: Bearing = .north
    ) -> DriverID {
        let driver = driverID(id)
        _ = try! state.updateLocation(
            driver,
            to: origin.destination(bearing: bearing, distance: Meters(distance)),
            recordedAt: nil,
            now: now
        )
        return driver
    }

    /// A rider asks for a ride from `pickup` to Gangnam.
    mutating func request(
        _ rider: String,
        at pickup: Coordinate = cityHall,
        to dropoff: Coordinate = gangnam,
        key: String? = nil
    ) throws(DispatchError) -> Ride {
        rideNumber += 1
        let id = try! RideID("ride-\(rideNumber)")
        let outcome = try state.requestRide(
            RideRequest(riderID: riderID(rider), pickup: pickup, dropoff: dropoff),
            idempotencyKey: key,
            id: id,
            now: now
        )
        collect()
        return outcome.ride
    }

    mutating func act(_ action: DriverAction, _ ride: RideID, by driver: String) throws(DispatchError) -> Ride {
        defer { collect() }
        let driver = driverID(driver)
        switch action {
        case .accept: return try state.accept(ride, by: driver, now: now)
        case .decline: return try state.decline(ride, by: driver, now: now)
        case .arrive: return try state.arrive(ride, by: driver, now: now)
        case .start: return try state.start(ride, by: driver, now: now)
        case .complete: return try state.complete(ride, by: driver, now: now)
        }
    }

    mutating func cancel(_ ride: RideID, rider: String) throws(DispatchError) -> Ride {
        defer { collect() }
        return try state.cancelByRider(ride, rider: riderID(rider), now: now)
    }

    mutating func cancel(_ ride: RideID, driver: String) throws(DispatchError) -> Ride {
        defer { collect() }
        return try state.cancelByDriver(ride, driver: driverID(driver), now: now)
    }

    mutating func collect() {
        events += state.drainEvents()
        statusChanges += state.drainStatusChanges()
    }

    func ride(_ id: RideID) -> Ride? { state.ride(id) }
    func status(of driver: String) -> DriverStatus? { state.drivers.driver(driverID(driver))?.status }

    /// The kinds of a ride's events, in order.
    func kinds(of ride: RideID) -> [RideEvent.Kind] {
        events.filter { $0.rideID == ride }.map(\.kind)
    }

    /// The events of a ride, checking their sequence numbers are 1, 2, 3, … without gaps.
    func checkedEvents(of ride: RideID, sourceLocation: SourceLocation = #_sourceLocation) -> [RideEvent] {
        let mine = events.filter { $0.rideID == ride }
        #expect(mine.map(\.sequence) == (0..<mine.count).map { $0 + 1 }, sourceLocation: sourceLocation)
        return mine
    }
}
