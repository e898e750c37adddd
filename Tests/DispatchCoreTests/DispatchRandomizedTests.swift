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
        }
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
                default:
                    script.advance(Double.random(in: 0...8, using: &rng))
                }
                succeeded += 1
            } catch {
                failed += 1
            }
            let problems = script.state.invariantViolations()
            try #require(problems == [], "after step \(step)")
        }
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
