import Geo

extension DispatchState {
    /// Every broken invariant of dispatch, described; empty when the state is consistent. The randomised
    /// tests call it after every command.
    ///
    /// - A driver holds at most one offer or ride, and what it holds says the same of it.
    /// - A ride is offered to at most one driver at a time, and assigned to at most one.
    /// - Only available drivers are in the spatial index.
    /// - Each rider has at most one unfinished ride; `searching` is exactly the rides in `requested`.
    /// - Complexity: O(drivers + rides). For tests.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        var holder: [DriverID: RideID] = [:]
        for ride in rides.values {
            let involved: DriverID?
            switch ride.status {
            case .requested:
                involved = nil
                if ride.offer != nil || ride.driverID != nil {
                    problems.append("requested ride \(ride.id) has a driver or an offer")
                }
                if !searching.contains(ride.id) { problems.append("requested ride \(ride.id) is not searching") }
            case .offered:
                involved = ride.offer?.driverID
                if involved == nil { problems.append("offered ride \(ride.id) has no offer") }
                if ride.driverID != nil { problems.append("offered ride \(ride.id) already has a driver") }
            case .accepted, .arrived, .inProgress:
                involved = ride.driverID
                if involved == nil { problems.append("\(ride.status.rawValue) ride \(ride.id) has no driver") }
                if ride.offer != nil { problems.append("\(ride.status.rawValue) ride \(ride.id) still has an offer") }
            case .completed, .cancelled, .unfulfilled:
                involved = nil
                if ride.offer != nil { problems.append("finished ride \(ride.id) has an open offer") }
                if activeRideByRider[ride.riderID] == ride.id {
                    problems.append("finished ride \(ride.id) is still active")
                }
            }
            if ride.status != .requested, searching.contains(ride.id) {
                problems.append("\(ride.status.rawValue) ride \(ride.id) is searching")
            }
            if !ride.status.isFinal, activeRideByRider[ride.riderID] != ride.id {
                problems.append("unfinished ride \(ride.id) is not its rider's active ride")
            }
            guard let driverID = involved else { continue }
            if let other = holder.updateValue(ride.id, forKey: driverID) {
                problems.append("driver \(driverID) is involved in rides \(other) and \(ride.id)")
            }
            let expected: DriverStatus =
                switch ride.status {
                case .offered: .offered
                case .inProgress: .onTrip
                default: .enRoute
                }
            guard let driver = drivers.driver(driverID) else {
                problems.append("ride \(ride.id)'s driver \(driverID) is unknown")
                continue
            }
            if driver.status != expected || driver.rideID != ride.id {
                problems.append(
                    "ride \(ride.id) is \(ride.status.rawValue) with \(driverID), who is \(driver.status.rawValue) "
                        + "for \(driver.rideID?.rawValue ?? "nothing")"
                )
            }
        }
        for driver in drivers.drivers.values {
            if driver.status.isBusy, holder[driver.id] == nil {
                problems.append("driver \(driver.id) is \(driver.status.rawValue) but no ride involves it")
            }
            if !driver.status.isBusy, driver.rideID != nil {
                problems.append(
                    "driver \(driver.id) is \(driver.status.rawValue) but holds ride \(driver.rideID?.rawValue ?? "")"
                )
            }
            if drivers.index.contains(driver.id), driver.status != .available {
                problems.append("driver \(driver.id) is in the index while \(driver.status.rawValue)")
            }
        }
        if !drivers.keptCountsAreExact() { problems.append("the kept driver counts disagree with the drivers") }
        for (rider, rideID) in activeRideByRider where rides[rideID]?.status.isFinal ?? true {
            problems.append("rider \(rider)'s active ride \(rideID) is finished or missing")
        }
        for rideID in searching where rides[rideID]?.status != .requested {
            problems.append("searching ride \(rideID) is not requested")
        }
        return problems
    }
}
