import DispatchCore
import DispatchTestSupport
import Foundation
import Synchronization
import Testing

/// A clock that moves forward a microsecond at every reading, so two commands never share a time,
/// and is slow to answer, so a command that read it before taking the lock would often be overtaken.
private final class TickingClock: DispatchClock {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))

    func now() -> Date {
        let reading = current.withLock { now in
            now += 0.000_001
            return now
        }
        Thread.sleep(forTimeInterval: 0.000_05)
        return reading
    }
}

/// Records every event in the order the dispatcher published them.
private final class RecordingSink: DispatchEventSink {
    let events = Mutex<[RideEvent]>([])

    func publish(_ batch: EventBatch) -> PublishReceipt? {
        events.withLock { $0 += batch.events }
        return nil
    }
}

@Suite("Time")
struct ClockTests {
    @Test("time is read under the lock: events published later are never dated earlier")
    func timeFollowsOrder() async throws {
        let sink = RecordingSink()
        var configuration = DispatchConfiguration()
        configuration.offerTimeout = .seconds(1)
        let dispatcher = Dispatcher(configuration: configuration, clock: TickingClock(), events: sink)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for step in 0..<100 {
                        let driver = try DriverID("d\(worker)-\(step % 5)")
                        _ = try dispatcher.updateLocation(driver, to: cityHall, recordedAt: nil)
                        let rider = try RiderID("r\(worker)-\(step)")
                        let ride = try dispatcher.requestRide(
                            RideRequest(riderID: rider, pickup: cityHall, dropoff: gangnam),
                            idempotencyKey: nil
                        ).value.ride
                        _ = try? dispatcher.cancel(ride.id, byRider: rider)
                        dispatcher.tick()
                    }
                }
            }
            try await group.waitForAll()
        }
        let times = sink.events.withLock { $0.map(\.at) }
        #expect(times.count > 1_500)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test("the system clock never goes back, and starts at the wall clock's time")
    func systemClock() {
        let clock = SystemClock()
        #expect(abs(clock.wallClockOffset) < 5)
        var last = clock.now()
        for _ in 0..<10_000 {
            let next = clock.now()
            #expect(next >= last)
            last = next
        }
    }
}
