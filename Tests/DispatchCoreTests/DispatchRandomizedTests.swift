import DispatchCore
import DispatchTestSupport
import Foundation
import Geo
import Testing

@Suite("Dispatch under thousands of random interleaved commands")
struct DispatchRandomizedTests {
    @Test(
        "invariants hold after every command, and every ride's events are in sequence",
        arguments: MatchingMode.allCases
    )
    func randomCommands(matching: MatchingMode) throws {
        var rng = SeededGenerator(seed: matching == .greedy ? 7 : 8)
        var script = DispatchScript {
            $0.matching = matching
            $0.offerTimeout = .seconds(15)
            $0.searchTimeout = .seconds(90)
            $0.searchWidenInterval = .seconds(10)
            $0.finishedRideRetention = .seconds(120)
            $0.driverForgetAfter = .seconds(120)
            $0.pickupGraceMargin = .seconds(20)
            $0.assignedDriverTTL = .seconds(150)
            // Small, so that the operators' map below falls behind the journals now and then.
            $0.changeJournalCapacity = 12
        }
        var map = CityMap()
        let drivers = (0..<25).map { "d\($0)" }
        let riders = (0..<30).map { "r\($0)" }
        var rides: [RideID] = []
        var succeeded = 0
        var failed = 0
        for step in 0..<6_000 {
            let roll = Int.random(in: 0..<100, using: &rng)
            let driver = drivers.randomElement(using: &rng) ?? "d0"
            let ride = rides.randomElement(using: &rng)
            do {
                switch roll {
                case 0..<20:
                    script.driver(
                        driver,
                        distance: Double.random(in: 0...6_000, using: &rng),
                        bearing: Bearing(degrees: Double.random(in: 0..<360, using: &rng))
                    )
                case 20..<24:
                    _ = try script.state.setStatus(
                        driverID(driver),
                        to: Bool.random(using: &rng) ? .available : .offline,
                        now: script.now
                    )
                case 24..<36:
                    let pickup = cityHall.destination(
                        bearing: Bearing(degrees: Double.random(in: 0..<360, using: &rng)),
                        distance: Meters(Double.random(in: 0...5_000, using: &rng))
                    )
                    let created = try script.request(riders.randomElement(using: &rng) ?? "r0", at: pickup)
                    rides.append(created.id)
                case 36..<76:
                    guard let ride, let current = script.ride(ride) else { continue }
                    // Mostly the driver involved, sometimes anyone.
                    let involved = current.offer?.driverID.rawValue ?? current.driverID?.rawValue
                    let actor = Int.random(in: 0..<5, using: &rng) == 0 ? driver : (involved ?? driver)
                    let action = DriverAction.allCases.randomElement(using: &rng) ?? .accept
                    _ = try script.act(action, ride, by: actor)
                case 76..<82:
                    guard let ride, let current = script.ride(ride) else { continue }
                    let rider = Int.random(in: 0..<4, using: &rng) == 0 ? "stranger" : current.riderID.rawValue
                    _ = try script.cancel(ride, rider: rider)
                case 82..<85:
                    guard let ride, let current = script.ride(ride) else { continue }
                    _ = try script.cancel(ride, driver: current.driverID?.rawValue ?? driver)
                case 85..<87:
                    guard let ride else { continue }
                    _ = try script.state.end(
                        ride,
                        as: Bool.random(using: &rng) ? .cancelled : .completed,
                        reason: "support",
                        now: script.now
                    )
                    script.collect()
                case 87..<88:
                    // Storage refused a ride it was just asked for (the server forgets it).
                    guard let ride, let current = script.ride(ride),
                        current.status == .requested || current.status == .offered
                    else { continue }
                    script.state.discard(ride, now: script.now)
                default:
                    script.advance(Double.random(in: 0...8, using: &rng))
                }
                succeeded += 1
            } catch {
                failed += 1
            }
            let problems = script.state.invariantViolations()
            try #require(problems == [], "after step \(step)")
            // The operators' map, following by what changed, agrees with a complete read.
            map.apply(script.state.cityChanges(since: map.position, now: script.now))
            let complete = script.state.cityChanges(since: nil, now: script.now)
            let drivers: [DriverID: Driver] = Dictionary(uniqueKeysWithValues: complete.drivers.map { ($0.id, $0) })
            let drawn: [RideID: CityMap.Drawn] = Dictionary(
                uniqueKeysWithValues: complete.rides.map { ($0.id, CityMap.Drawn($0)) }
            )
            try #require(map.drivers == drivers, "after step \(step)")
            try #require(map.rides == drawn, "after step \(step)")
        }
        // Both ways of following were taken: by changes mostly, and by a complete read when too far behind.
        #expect(map.incrementalReads > 3_000)
        #expect(map.completeReads > 10)
        // Every ride's events are numbered 1, 2, 3, … and each status change is one event.
        var sequences: [RideID: Int] = [:]
        for event in script.events {
            let previous = sequences[event.rideID, default: 0]
            #expect(event.sequence == previous + 1, "ride \(event.rideID): \(event.sequence) after \(previous)")
            sequences[event.rideID] = event.sequence
        }
        for (id, last) in sequences {
            if let ride = script.ride(id) { #expect(ride.sequence == last) }
        }
        // The run exercised the machine: many commands worked, many were refused, rides finished.
        #expect(succeeded > 2_000)
        #expect(failed > 200)
        let finals = Set(script.events.filter { $0.status.isFinal }.map(\.kind))
        #expect(finals.isSuperset(of: [.rideCompleted, .rideCancelled]))
        #expect(script.events.contains { $0.kind == .offerExpired })
        #expect(script.events.contains { $0.kind == .offerDeclined })
        #expect(script.events.contains { $0.kind == .driverCancelled })
        #expect(script.events.contains { $0.kind == .assignmentLapsed })
        #expect(script.events.contains { $0.reason == "support" })
        #expect(script.state.drivers.forgottenCount > 0)
    }
}

/// A reader of `cityChanges`, as the operators' console is: it keeps every driver and unfinished ride.
private struct CityMap {
    var drivers: [DriverID: Driver] = [:]
    var rides: [RideID: Drawn] = [:]
    var position: CityChanges.Position?
    var incrementalReads = 0
    var completeReads = 0

    /// What a map draws of a ride, and its event count: every change to these is an event. (The times
    /// of its next retry or widening change without one, and are no change to the map.)
    struct Drawn: Equatable {
        let status: RideStatus
        let heldBy: DriverID?
        let radius: Meters
        let sequence: Int

        init(_ ride: Ride) {
            status = ride.status
            heldBy = ride.heldBy
            radius = ride.search.radius
            sequence = ride.sequence
        }
    }

    mutating func apply(_ changes: CityChanges) {
        position = changes.position
        if changes.isComplete {
            completeReads += 1
            drivers = [:]
            rides = [:]
        } else {
            incrementalReads += 1
        }
        for driver in changes.drivers { drivers[driver.id] = driver }
        for id in changes.driversGone { drivers[id] = nil }
        for ride in changes.rides { rides[ride.id] = ride.status.isFinal ? nil : Drawn(ride) }
        for id in changes.ridesGone { rides[id] = nil }
    }
}
