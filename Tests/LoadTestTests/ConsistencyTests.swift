import Testing

@testable import LoadTestKit

@Suite("The consistency check: lost rides, unseen endings, double bookings")
struct ConsistencyTests {
    typealias Server = ConsistencyCheck.RideOnServer

    static func ride(_ check: inout ConsistencyCheck, _ id: String, driver: String, accepted: Double, ended: Double?) {
        check.acknowledged(id, status: "offered")
        check.saw(id, sequence: 1, type: "ride_requested", status: "requested", driverID: nil, at: accepted - 1)
        check.saw(id, sequence: 2, type: "ride_accepted", status: "accepted", driverID: driver, at: accepted)
        if let ended {
            check.saw(id, sequence: 3, type: "ride_completed", status: "completed", driverID: driver, at: ended)
        }
    }

    @Test("what the client saw matches the server: passed, with finished and running rides told apart")
    func consistent() {
        var check = ConsistencyCheck()
        Self.ride(&check, "a", driver: "d1", accepted: 10, ended: 20)
        Self.ride(&check, "b", driver: "d1", accepted: 20, ended: nil)
        let report = check.verify(
            server: [
                "a": Server(status: "completed", driverID: "d1"), "b": Server(status: "in_progress", driverID: "d1"),
            ],
            offersWhileBusy: 0
        )
        #expect(report.passed)
        #expect(report.acknowledged == 2 && report.finished == 1 && report.unfinished == 1)
        #expect(check.open == ["b"])
    }

    @Test("a ride the server forgot, or whose status went back, is lost")
    func lost() {
        var check = ConsistencyCheck()
        Self.ride(&check, "gone", driver: "d1", accepted: 1, ended: nil)
        Self.ride(&check, "back", driver: "d2", accepted: 1, ended: nil)
        Self.ride(&check, "changed", driver: "d3", accepted: 1, ended: 2)
        let report = check.verify(
            server: [
                "gone": nil, "back": Server(status: "requested", driverID: nil),
                "changed": Server(status: "cancelled", driverID: nil),
            ],
            offersWhileBusy: 0
        )
        #expect(!report.passed)
        #expect(report.lost.count == 3)
        #expect(report.lost.contains { $0.hasPrefix("gone:") })
    }

    @Test("an ending the server has but the client never saw fails the check")
    func unseen() {
        var check = ConsistencyCheck()
        Self.ride(&check, "a", driver: "d1", accepted: 1, ended: nil)
        let report = check.verify(server: ["a": Server(status: "completed", driverID: "d1")], offersWhileBusy: 0)
        #expect(report.unseenEndings.count == 1 && !report.passed)
    }

    @Test("a driver given a second ride before the first ended is a double booking; back to back is fine")
    func doubleBooking() {
        var check = ConsistencyCheck()
        Self.ride(&check, "a", driver: "d1", accepted: 10, ended: 20)
        Self.ride(&check, "b", driver: "d1", accepted: 15, ended: 30)
        Self.ride(&check, "c", driver: "d2", accepted: 10, ended: 20)
        Self.ride(&check, "d", driver: "d2", accepted: 20, ended: 25)
        let server: [String: Server?] = [
            "a": Server(status: "completed", driverID: "d1"), "b": Server(status: "completed", driverID: "d1"),
            "c": Server(status: "completed", driverID: "d2"), "d": Server(status: "completed", driverID: "d2"),
        ]
        let report = check.verify(server: server, offersWhileBusy: 0)
        #expect(report.doubleBookings == ["d1: a / b"])
        // Offers to drivers whose ride ended unheard are reported, not failures.
        var clean = ConsistencyCheck()
        Self.ride(&clean, "c", driver: "d2", accepted: 10, ended: 20)
        #expect(clean.verify(server: ["c": Server(status: "completed", driverID: "d2")], offersWhileBusy: 3).passed)
    }

    @Test("events arriving out of order never move the seen status back")
    func ordering() {
        var check = ConsistencyCheck()
        check.acknowledged("a", status: "offered")
        check.saw("a", sequence: 3, type: "ride_accepted", status: "accepted", driverID: "d", at: 3)
        check.saw("a", sequence: 2, type: "ride_offered", status: "offered", driverID: "d", at: 2)
        #expect(check.rides["a"]?.status == "accepted")
        check.saw("unknown", sequence: 1, type: "ride_requested", status: "requested", driverID: nil, at: 1)
        #expect(check.rides["unknown"] == nil)
    }
}
