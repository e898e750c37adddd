import Geo
import Testing

@testable import LoadTestKit

@Suite("The simulated fleet: reports, polls, offers and a ride's calls")
struct FleetTests {
    static func scenario(drivers: Int = 3, streams: Int = 3, accept: Double = 1, decline: Double = 1) -> Scenario {
        var scenario = Scenario()
        scenario.drivers = drivers
        scenario.driverStreams = streams
        scenario.locationIntervalSeconds = 4
        scenario.offerPollSeconds = 2
        scenario.acceptProbability = accept
        scenario.declineShare = decline
        scenario.thinkTimeMinSeconds = 1
        scenario.thinkTimeMaxSeconds = 1
        scenario.boardingSeconds = 2
        scenario.timeCompression = 10
        scenario.driverSpeedKmh = 36  // 10 m/s, 100 m/s compressed
        return scenario
    }

    static func offer(_ ride: String = "r1") -> SimOffer {
        SimOffer(
            rideID: ride,
            pickup: try! Coordinate(latitude: 37.55, longitude: 126.97),
            dropoff: try! Coordinate(latitude: 37.56, longitude: 126.98)
        )
    }

    /// The ride calls a tick at `time` asks for.
    static func calls(_ fleet: inout Fleet, at time: Double) -> [RideCall] {
        fleet.tick(now: time).compactMap { if case .call(let call, _, _) = $0 { call } else { nil } }
    }

    @Test("every driver reports once per interval, on schedule, whatever the tick rate")
    func reports() {
        var fleet = Fleet(scenario: Self.scenario(drivers: 50), city: CityMap(scenario: Self.scenario()))
        var counts: [String: Int] = [:]
        var time = 0.0
        while time < 40 {
            for case .report(let id, _) in fleet.tick(now: time) { counts[id, default: 0] += 1 }
            time += 0.05
        }
        #expect(counts.count == 50)
        #expect(counts.values.allSatisfy { $0 == 10 })
        // A late tick sends each overdue report once, and the schedule is kept (no burst to catch up).
        var late = Fleet(scenario: Self.scenario(drivers: 5), city: CityMap(scenario: Self.scenario()))
        _ = late.tick(now: 0)
        let overdue = late.tick(now: 20)
        #expect(overdue.filter { if case .report = $0 { true } else { false } }.count == 5)
        let next = late.tick(now: 20.01)
        #expect(next.isEmpty)
    }

    @Test("after a stall the fleet's reports and polls stay spread over the interval, never one burst per interval")
    func spreadAfterStall() {
        // The ticker stalls for more than an interval: every driver is overdue.
        var scenario = Self.scenario(drivers: 2_000, streams: 0)
        scenario.offerPollSeconds = 4
        var fleet = Fleet(scenario: scenario, city: CityMap(scenario: Self.scenario()))
        _ = fleet.tick(now: 0)
        let overdue = fleet.tick(now: 6.3)
        #expect(overdue.count > 1_900)
        // From then on, each 0.1 s tick sends about 2,000 × 0.1 / 4 = 50 reports and 50 polls; a burst
        // would send most of the fleet in one tick once per interval.
        var largestReports = 0
        var largestPolls = 0
        var reported = Set<String>()
        var time = 6.4
        while time < 6.3 + 4 * 3 {
            var reports = 0
            var polls = 0
            for action in fleet.tick(now: time) {
                switch action {
                case .report(let id, _):
                    reports += 1
                    reported.insert(id)
                case .pollOffer: polls += 1
                case .call: break
                }
            }
            largestReports = max(largestReports, reports)
            largestPolls = max(largestPolls, polls)
            time += 0.1
        }
        #expect(reported.count == 2_000)
        #expect(largestReports < 150)
        #expect(largestPolls < 150)

        // A fleet whose first tick comes late starts its drivers then, spread, rather than all overdue.
        var lateStart = Fleet(scenario: scenario, city: CityMap(scenario: Self.scenario()))
        #expect(lateStart.tick(now: 6.3).count < 10)
        var firstInterval = 0
        time = 6.4
        while time < 6.3 + 4 {
            let reports = lateStart.tick(now: time).filter { if case .report = $0 { true } else { false } }.count
            #expect(reports < 150)
            firstInterval += reports
            time += 0.1
        }
        #expect(firstInterval > 1_900)
    }

    @Test("only drivers without a stream poll, after their first report, and only while free")
    func polls() {
        var fleet = Fleet(scenario: Self.scenario(drivers: 4, streams: 1), city: CityMap(scenario: Self.scenario()))
        var pollers: Set<String> = []
        var firstReport: [String: Double] = [:]
        var time = 0.0
        while time < 10 {
            for action in fleet.tick(now: time) {
                switch action {
                case .report(let id, _):
                    if firstReport[id] == nil { firstReport[id] = time }
                case .pollOffer(let id):
                    pollers.insert(id)
                    #expect(fleet.driver(id)?.streams == false)
                    #expect((firstReport[id] ?? .infinity) < time, "\(id) polled before the server knew it")
                case .call:
                    Issue.record("no ride, no call")
                }
            }
            time += 0.1
        }
        #expect(pollers.count == 3)
        // A driver busy with an offer does not poll.
        let busy = fleet.drivers[3].id
        let taken = fleet.offered(Self.offer(), to: busy, now: 10)
        #expect(taken)
        let actions = fleet.tick(now: 13)
        #expect(!actions.contains(.pollOffer(driverID: busy)))
    }

    @Test("an accepted offer goes accept → arrive → start → complete, each after the last one's answer")
    func wholeRide() {
        var fleet = Fleet(scenario: Self.scenario(drivers: 1), city: CityMap(scenario: Self.scenario()))
        _ = fleet.tick(now: 0)
        let id = fleet.drivers[0].id
        do {
            let value = fleet.offered(Self.offer(), to: id, now: 10)
            #expect(value)
        }
        do {
            let value = Self.calls(&fleet, at: 10.5)
            #expect(value.isEmpty)  // still thinking
        }
        do {
            let value = Self.calls(&fleet, at: 11)
            #expect(value == [.accept])
        }
        do {
            let value = Self.calls(&fleet, at: 30)
            #expect(value.isEmpty)  // waits for the answer
        }
        fleet.finished(.accept, rideID: "r1", by: id, succeeded: true, now: 11)
        guard case .toPickup(_, let arriveAt) = fleet.driver(id)?.phase else {
            Issue.record("not driving to the pickup")
            return
        }
        let start = fleet.driver(id)?.position ?? Self.offer().pickup
        #expect(abs(arriveAt - (11 + start.distance(to: Self.offer().pickup).value / 100)) < 1e-6)
        do {
            let value = Self.calls(&fleet, at: arriveAt - 0.01)
            #expect(value.isEmpty)
        }
        do {
            let value = Self.calls(&fleet, at: arriveAt)
            #expect(value == [.arrive])
        }
        #expect(fleet.driver(id)?.position == Self.offer().pickup)
        fleet.finished(.arrive, rideID: "r1", by: id, succeeded: true, now: arriveAt)
        do {
            let value = Self.calls(&fleet, at: arriveAt + 1.9)
            #expect(value.isEmpty)  // boarding
        }
        do {
            let value = Self.calls(&fleet, at: arriveAt + 2)
            #expect(value == [.start])
        }
        fleet.finished(.start, rideID: "r1", by: id, succeeded: true, now: arriveAt + 2)
        let trip = Self.offer().pickup.distance(to: Self.offer().dropoff).value / 100
        do {
            let value = Self.calls(&fleet, at: arriveAt + 2 + trip)
            #expect(value == [.complete])
        }
        fleet.finished(.complete, rideID: "r1", by: id, succeeded: true, now: arriveAt + 3 + trip)
        #expect(fleet.driver(id)?.phase == .roaming)
        #expect(fleet.driver(id)?.position == Self.offer().dropoff)
    }

    @Test("a declined offer is answered once; a repeated sighting of it is not a new offer")
    func decline() {
        var fleet = Fleet(
            scenario: Self.scenario(drivers: 1, accept: 0, decline: 1),
            city: CityMap(scenario: Self.scenario())
        )
        let id = fleet.drivers[0].id
        do {
            let value = fleet.offered(Self.offer(), to: id, now: 0)
            #expect(value)
        }
        do {
            let value = fleet.offered(Self.offer(), to: id, now: 0.5)
            #expect(!value)
        }
        do {
            let value = Self.calls(&fleet, at: 1)
            #expect(value == [.decline])
        }
        fleet.finished(.decline, rideID: "r1", by: id, succeeded: true, now: 1)
        #expect(fleet.driver(id)?.phase == .roaming)
        do {
            let value = fleet.offered(Self.offer(), to: id, now: 2)
            #expect(!value)  // a poll still showing it
        }
        do {
            let value = fleet.offered(Self.offer("r2"), to: id, now: 2)
            #expect(value)
        }
    }

    @Test("an ignored offer sends nothing and frees the driver")
    func ignore() {
        var fleet = Fleet(
            scenario: Self.scenario(drivers: 1, accept: 0, decline: 0),
            city: CityMap(scenario: Self.scenario())
        )
        let id = fleet.drivers[0].id
        do {
            let value = fleet.offered(Self.offer(), to: id, now: 0)
            #expect(value)
        }
        do {
            let value = Self.calls(&fleet, at: 1)
            #expect(value.isEmpty)
        }
        #expect(fleet.driver(id)?.phase == .roaming)
    }

    @Test("a refused call or an ended ride frees the driver; an offer while holding a ride means it ended unheard")
    func endings() {
        var fleet = Fleet(scenario: Self.scenario(drivers: 1), city: CityMap(scenario: Self.scenario()))
        let id = fleet.drivers[0].id
        fleet.offered(Self.offer(), to: id, now: 0)
        _ = fleet.tick(now: 1)
        fleet.finished(.accept, rideID: "r1", by: id, succeeded: false, now: 1)  // 409: the rider cancelled
        #expect(fleet.driver(id)?.phase == .roaming)
        fleet.offered(Self.offer("r2"), to: id, now: 2)
        _ = fleet.tick(now: 3)
        fleet.finished(.accept, rideID: "r2", by: id, succeeded: true, now: 3)
        #expect(fleet.driver(id)?.hasRide == true)
        fleet.rideEnded("other", for: id, now: 4)
        #expect(fleet.driver(id)?.hasRide == true)
        fleet.rideEnded("r2", for: id, now: 5)
        #expect(fleet.driver(id)?.phase == .roaming)
        // An answer to a call the driver did not make changes nothing.
        fleet.finished(.complete, rideID: "r2", by: id, succeeded: true, now: 6)
        #expect(fleet.driver(id)?.phase == .roaming)
        // Holding r4, the driver is offered r5: r4 ended without it hearing; it considers r5.
        fleet.offered(Self.offer("r4"), to: id, now: 7)
        _ = fleet.tick(now: 8)
        fleet.finished(.accept, rideID: "r4", by: id, succeeded: true, now: 8)
        let taken = fleet.offered(Self.offer("r5"), to: id, now: 9)
        #expect(taken)
        #expect(fleet.offersWhileBusy == 1)
        #expect(fleet.driver(id)?.rideID == "r5")
        // While a call is in flight, an offer waits (it will expire if the driver stays busy).
        _ = fleet.tick(now: 10)
        let whilePending = fleet.offered(Self.offer("r6"), to: id, now: 10)
        #expect(!whilePending)
    }
}

@Suite("Drivers' acceptance habits")
struct AcceptanceHabitTests {
    @Test("each driver draws its own chance of accepting around the fleet's; without a spread all share it")
    func habits() {
        var scenario = FleetTests.scenario(drivers: 2_000, accept: 0.6)
        scenario.acceptProbabilitySpread = 0.3
        let fleet = Fleet(scenario: scenario, city: CityMap(scenario: scenario))
        let habits = fleet.drivers.map(\.acceptProbability)
        #expect(habits.allSatisfy { (0.3...0.9).contains($0) })
        let mean = habits.reduce(0, +) / Double(habits.count)
        #expect(abs(mean - 0.6) < 0.02)
        #expect(habits.filter { $0 < 0.4 }.count > 200 && habits.filter { $0 > 0.8 }.count > 200)
        // The same positions as without habits: they come from a generator of their own.
        scenario.acceptProbabilitySpread = 0
        let same = Fleet(scenario: scenario, city: CityMap(scenario: scenario))
        #expect(same.drivers.map(\.acceptProbability).allSatisfy { $0 == 0.6 })
        #expect(same.drivers.map(\.position) == fleet.drivers.map(\.position))
    }

    @Test("each driver answers by its own habit: the picky decline or ignore, the keen accept")
    func answersFollowHabits() {
        func accepts(mean: Double) -> Int {
            var scenario = FleetTests.scenario(drivers: 200, accept: mean)
            scenario.acceptProbabilitySpread = 0
            var fleet = Fleet(scenario: scenario, city: CityMap(scenario: scenario))
            var accepted = 0
            for (number, driver) in fleet.drivers.enumerated() {
                guard fleet.offered(FleetTests.offer("r\(number)"), to: driver.id, now: 1) else { continue }
                if case .considering(_, _, .accept)? = fleet.driver(driver.id)?.phase { accepted += 1 }
            }
            return accepted
        }
        #expect(accepts(mean: 0.02) < 15)
        #expect(accepts(mean: 1) == 200)
    }
}
