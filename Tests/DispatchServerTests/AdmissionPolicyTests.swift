import Testing

@testable import DispatchServer

@Suite("Admission control: request classes, the shedding policy, the lag window")
struct AdmissionPolicyTests {
    @Test(
        "requests are classed by method and path",
        arguments: [
            ("POST", "/v1/rides", RequestClass.rideRequest),
            ("POST", "/v1/rides/r1/accept", .rideProgress),
            ("POST", "/v1/rides/r1/complete", .rideProgress),
            ("POST", "/v1/rides/r1/cancel", .rideProgress),
            ("PUT", "/v1/drivers/d1/status", .rideProgress),
            ("PUT", "/v1/drivers/d1/location", .locationReport),
            ("GET", "/v1/drivers/d1/events", .stream),
            ("GET", "/v1/rides/r1/events", .stream),
            ("GET", "/v1/drivers/d1/channel", .stream),
            ("GET", "/v1/drivers/nearby", .read),
            ("GET", "/v1/drivers/d1/offer", .read),
            ("GET", "/v1/rides/r1", .read),
            ("GET", "/v1/riders/u1/rides", .read),
            ("GET", "/v1/rides", .read),
            ("GET", "/healthz", .operations),
            ("GET", "/readyz", .operations),
            ("GET", "/", .operations),
        ]
    )
    func classes(method: String, path: String, expected: RequestClass) {
        #expect(RequestClass(isPost: method == "POST", isPut: method == "PUT", path: path[...]) == expected)
    }

    @Test("shedding goes by priority: reports, reads and streams first, then ride requests, never probes")
    func priorities() {
        let policy = AdmissionPolicy(
            reportLagLimit: .milliseconds(100),
            requestLagLimit: .milliseconds(250),
            requestCommitLimit: .milliseconds(500),
            maximumWaitingCommands: 100,
            retryAfterSeconds: 2
        )
        // The draw that sheds whenever any share is shed: the highest.
        func decisions(_ signals: LoadSignals, draw: Double = 0.999_999) -> [RequestClass: AdmissionPolicy.Decision] {
            Dictionary(uniqueKeysWithValues: RequestClass.allCases.map { ($0, policy.decide($0, signals, draw: draw)) })
        }
        let quiet = decisions(LoadSignals())
        #expect(quiet.values.allSatisfy { $0 == .admit })
        // Exactly at a limit is still within it.
        #expect(decisions(LoadSignals(schedulingLag: .milliseconds(100))).values.allSatisfy { $0 == .admit })

        // 150 ms is half way from the limit to twice the limit: half the reports are shed.
        let lag = LoadSignals(schedulingLag: .milliseconds(150))
        #expect(decisions(lag, draw: 0.49)[.locationReport] == .shed(.cpu))
        #expect(decisions(lag, draw: 0.51)[.locationReport] == .admit)
        let busy = decisions(LoadSignals(schedulingLag: .milliseconds(200)), draw: 0)
        #expect(busy[.locationReport] == .shed(.cpu))
        #expect(busy[.read] == .shed(.cpu))
        #expect(busy[.stream] == .shed(.cpu))
        #expect(busy[.rideRequest] == .admit)
        #expect(busy[.rideProgress] == .admit)
        #expect(busy[.operations] == .admit)

        let overloaded = decisions(LoadSignals(schedulingLag: .seconds(3)), draw: 0)
        #expect(overloaded[.rideRequest] == .shed(.cpu))
        #expect(overloaded[.rideProgress] == .admit)
        #expect(overloaded[.operations] == .admit)
    }

    @Test("a slow database sheds ride requests first and commands only when the wait queue is full")
    func database() {
        let policy = AdmissionPolicy(requestCommitLimit: .milliseconds(500), maximumWaitingCommands: 100)
        let slowCommits = LoadSignals(waitingCommands: 10, oldestCommandWait: .milliseconds(600))
        #expect(policy.decide(.rideRequest, slowCommits, draw: 0.5) == .shed(.database))
        #expect(policy.decide(.rideProgress, slowCommits, draw: 0.5) == .admit)
        #expect(policy.decide(.locationReport, slowCommits, draw: 0.5) == .admit)

        let halfFull = LoadSignals(waitingCommands: 50)
        #expect(policy.decide(.rideRequest, halfFull, draw: 0.5) == .shed(.database))
        #expect(policy.decide(.rideProgress, halfFull, draw: 0.5) == .admit)

        let full = LoadSignals(waitingCommands: 100)
        #expect(policy.decide(.rideProgress, full, draw: 0.5) == .shed(.database))
        #expect(policy.decide(.operations, full, draw: 0.5) == .admit)
    }

    @Test("the lag window keeps the worst sample for at least half a window and at most a whole one")
    func window() {
        let start = ContinuousClock.now
        var window = WindowedMaximum(window: .milliseconds(200))
        #expect(window.maximum(at: start) == .zero)
        window.record(.milliseconds(30), at: start)
        window.record(.milliseconds(5), at: start + .milliseconds(50))
        #expect(window.maximum(at: start + .milliseconds(60)) == .milliseconds(30))
        // Still counted in the previous half.
        #expect(window.maximum(at: start + .milliseconds(150)) == .milliseconds(30))
        window.record(.milliseconds(7), at: start + .milliseconds(150))
        // The half holding 30 ms rolled out; 7 ms is the worst left.
        #expect(window.maximum(at: start + .milliseconds(210)) == .milliseconds(7))
        // After a whole window of nothing, nothing.
        #expect(window.maximum(at: start + .milliseconds(500)) == .zero)
    }
}
