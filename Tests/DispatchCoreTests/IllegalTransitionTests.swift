import DispatchCore
import Foundation
import Geo
import Testing

/// Where to bring a ride before trying a command on it.
enum Stage: String, CaseIterable, Sendable {
    case requested, offered, accepted, arrived, inProgress, completed, cancelled, unfulfilled
}

/// A command, by the ride's own rider or driver unless it says otherwise.
enum Command: String, CaseIterable, Sendable {
    case accept, decline, arrive, start, complete, riderCancel, driverCancel
    case acceptByStranger, arriveByStranger, cancelByOtherRider
}

@Suite("Illegal transitions: a clear error, and nothing changes")
struct IllegalTransitionTests {
    /// Builds a script with ride `ride-1` of rider `r` at `stage`; driver `d` is the one involved.
    static func script(at stage: Stage) throws -> (DispatchScript, RideID) {
        var script = DispatchScript { $0.searchTimeout = .seconds(60) }
        script.driver("stranger", distance: 2_000)
        _ = try script.state.setStatus(driverID("stranger"), to: .offline, now: script.now)
        let ride = try script.request("r").id
        if stage == .unfulfilled {
            script.advance(60)
            return (script, ride)
        }
        guard stage != .requested else { return (script, ride) }
        script.driver("d", distance: 100)
        script.advance(1)
        if stage == .cancelled { _ = try script.cancel(ride, rider: "r") }
        let order: [Stage] = [.accepted, .arrived, .inProgress, .completed]
        let actions: [DriverAction] = [.accept, .arrive, .start, .complete]
        if let last = order.firstIndex(of: stage) {
            for action in actions[...last] { _ = try script.act(action, ride, by: "d") }
        }
        return (script, ride)
    }

    /// What each command expects of the ride's stage; nil where the command is legal.
    static func expectedError(_ command: Command, at stage: Stage) -> DispatchError.Code? {
        switch command {
        case .accept, .decline:
            return stage == .offered ? nil : .offerNotHeld
        case .arrive:
            return stage == .accepted ? nil : (stage.hasDriver ? .transitionNotAllowed : .rideNotHeld)
        case .start:
            return stage == .arrived ? nil : (stage.hasDriver ? .transitionNotAllowed : .rideNotHeld)
        case .complete:
            return stage == .inProgress ? nil : (stage.hasDriver ? .transitionNotAllowed : .rideNotHeld)
        case .riderCancel:
            return [.requested, .offered, .accepted, .arrived].contains(stage) ? nil : .transitionNotAllowed
        case .driverCancel:
            return [.accepted, .arrived].contains(stage)
                ? nil : (stage.hasDriver ? .transitionNotAllowed : .rideNotHeld)
        case .acceptByStranger:
            return .offerNotHeld
        case .arriveByStranger:
            return .rideNotHeld
        case .cancelByOtherRider:
            return .notYourRide
        }
    }

    static func run(_ command: Command, on ride: RideID, in script: inout DispatchScript) throws(DispatchError) {
        switch command {
        case .accept: _ = try script.act(.accept, ride, by: "d")
        case .decline: _ = try script.act(.decline, ride, by: "d")
        case .arrive: _ = try script.act(.arrive, ride, by: "d")
        case .start: _ = try script.act(.start, ride, by: "d")
        case .complete: _ = try script.act(.complete, ride, by: "d")
        case .riderCancel: _ = try script.cancel(ride, rider: "r")
        case .driverCancel: _ = try script.cancel(ride, driver: "d")
        case .acceptByStranger: _ = try script.act(.accept, ride, by: "stranger")
        case .arriveByStranger: _ = try script.act(.arrive, ride, by: "stranger")
        case .cancelByOtherRider: _ = try script.cancel(ride, rider: "someone-else")
        }
    }

    @Test(
        "every command in every stage: legal ones succeed, illegal ones throw and change nothing",
        arguments: Stage.allCases
    )
    func everyCommand(stage: Stage) throws {
        for command in Command.allCases {
            var (script, ride) = try Self.script(at: stage)
            #expect(
                script.ride(ride).map {
                    Stage(rawValue: $0.status.rawValue.replacingOccurrences(of: "in_progress", with: "inProgress"))
                } == stage
            )
            let rideBefore = script.ride(ride)
            let driverBefore = script.state.drivers.driver(driverID("d"))
            let eventsBefore = script.events.count
            let expected = Self.expectedError(command, at: stage)
            do {
                try Self.run(command, on: ride, in: &script)
                #expect(
                    expected == nil,
                    "\(command) at \(stage) should have failed with \(String(describing: expected))"
                )
            } catch {
                #expect(error.code == expected, "\(command) at \(stage): \(error)")
                #expect(!error.message.isEmpty)
                #expect(script.ride(ride) == rideBefore, "\(command) at \(stage) changed the ride")
                #expect(script.state.drivers.driver(driverID("d")) == driverBefore)
                #expect(script.events.count == eventsBefore)
            }
            #expect(script.state.invariantViolations() == [], "\(command) at \(stage)")
        }
    }

    @Test("an unknown ride is ride_not_found for every command")
    func unknownRide() throws {
        var script = DispatchScript()
        script.driver("d")
        let ghost = try RideID("ghost")
        for command in Command.allCases {
            #expect(throws: DispatchError.self) { try Self.run(command, on: ghost, in: &script) }
            do { try Self.run(command, on: ghost, in: &script) } catch { #expect(error.code == .rideNotFound) }
        }
    }

    @Test("a driver holding an offer or a ride cannot set its own status")
    func busyDriverStatus() throws {
        var (script, _) = try Self.script(at: .offered)
        #expect {
            try script.state.setStatus(driverID("d"), to: .offline, now: script.now)
        } throws: { ($0 as? DispatchError)?.code == .driverBusy }
        #expect {
            try script.state.setStatus(driverID("d"), to: .onTrip, now: script.now)
        } throws: { ($0 as? DispatchError)?.code == .invalidStatus }
        #expect(script.status(of: "d") == .offered)
    }

    @Test("races: a late accept after the rider cancelled, or after the offer expired, is refused")
    func races() throws {
        var (script, ride) = try Self.script(at: .offered)
        _ = try script.cancel(ride, rider: "r")
        #expect(throws: DispatchError.self) { try script.act(.accept, ride, by: "d") }
        #expect(script.status(of: "d") == .available)

        var (expiring, second) = try Self.script(at: .offered)
        expiring.advance(15)
        #expect {
            try expiring.act(.accept, second, by: "d")
        } throws: { ($0 as? DispatchError)?.code == .offerNotHeld }
        #expect(expiring.ride(second)?.status == .requested)
        #expect(expiring.state.invariantViolations() == [])
    }
}

extension Stage {
    /// Whether driver `d` is assigned to the ride at this stage.
    var hasDriver: Bool { [.accepted, .arrived, .inProgress, .completed].contains(self) }
}
