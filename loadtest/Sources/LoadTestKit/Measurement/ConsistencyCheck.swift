/// The end-of-run check that nothing the server acknowledged went missing, and that no driver ever
/// held two rides at once.
///
/// During the run it is told what the client saw: each acknowledged ride, the statuses its rider's
/// stream showed (the server's own events), and every assignment (`ride_accepted`) and ending with the
/// server's timestamps. At the end the runner reads each ride back from the server; `verify` compares.
public struct ConsistencyCheck: Sendable {
    /// What the client knows of one acknowledged ride.
    public struct RideSeen: Sendable, Equatable {
        /// The latest status the client saw, in the ride's order.
        public var status: String
        /// The highest event sequence the client saw.
        public var sequence: Int = 0
        public var driverID: String?
    }

    /// What the server says of a ride when read back (nil: not found).
    public struct RideOnServer: Sendable, Equatable {
        public var status: String
        public var driverID: String?

        public init(status: String, driverID: String?) {
            self.status = status
            self.driverID = driverID
        }
    }

    public struct Report: Codable, Equatable, Sendable {
        public var acknowledged: Int
        /// Rides that ended (completed, cancelled, unfulfilled) as the client saw them.
        public var finished: Int
        /// Rides still running on the server at the end, in the state the client last saw.
        public var unfinished: Int
        /// Acknowledged rides the server no longer knows, or whose status went backwards or differs
        /// from a final status the client saw.
        public var lost: [String]
        /// Rides whose final status the server has but the client's stream never delivered.
        public var unseenEndings: [String]
        /// Drivers assigned a second ride while holding one (`driver: ride A / ride B`).
        public var doubleBookings: [String]
        /// Offers to drivers the client thought busy: their ride had ended without them hearing
        /// (informational; the double-booking check judges the server by its own events).
        public var offersWhileBusy: Int
        /// Acknowledged rides not read back (the read failed, or the run was interrupted first), so
        /// not checked against the server. Nil in results written before.
        public var notReadBack: Int?

        public var passed: Bool {
            lost.isEmpty && unseenEndings.isEmpty && doubleBookings.isEmpty
        }
    }

    /// The order of statuses along a ride's life: a later one never goes back to an earlier one.
    public static let rank: [String: Int] = [
        "requested": 0, "offered": 0, "accepted": 1, "arrived": 2, "in_progress": 3,
        "completed": 4, "cancelled": 4, "unfulfilled": 4,
    ]
    public static let finalStatuses: Set<String> = ["completed", "cancelled", "unfulfilled"]

    public private(set) var rides: [String: RideSeen] = [:]
    /// Per driver: (server time of assignment or ending, ride, starts?) in arrival order.
    private var holdings: [String: [(at: Double, ride: String, starts: Bool)]] = [:]

    public init() {}

    public mutating func acknowledged(_ rideID: String, status: String) {
        if rides[rideID] == nil { rides[rideID] = RideSeen(status: status) }
    }

    /// An event of the ride as the rider's stream delivered it.
    /// - Parameter at: The event's server time (seconds since any fixed origin).
    public mutating func saw(
        _ rideID: String,
        sequence: Int,
        type: String,
        status: String,
        driverID: String?,
        at: Double
    ) {
        guard var ride = rides[rideID] else { return }
        if sequence > ride.sequence {
            ride.sequence = sequence
            ride.status = status
        }
        if type == "ride_accepted", let driverID {
            ride.driverID = driverID
            holdings[driverID, default: []].append((at, rideID, true))
        } else if let driver = ride.driverID,
            ["ride_completed", "ride_cancelled", "driver_cancelled", "assignment_lapsed", "ride_unfulfilled"]
                .contains(type)
        {
            holdings[driver, default: []].append((at, rideID, false))
            if type == "driver_cancelled" || type == "assignment_lapsed" { ride.driverID = nil }
        }
        rides[rideID] = ride
    }

    /// Rides the client has not seen end, by ID.
    public var open: [String] {
        rides.filter { !Self.finalStatuses.contains($0.value.status) }.map(\.key).sorted()
    }

    /// How many acknowledged rides the client has not seen end (the drain waits for them).
    public var openCount: Int {
        rides.values.count { !Self.finalStatuses.contains($0.status) }
    }

    /// Compares what the client saw with what the server says now.
    /// - Parameter server: The acknowledged rides read back (nil where the server answered 404); a
    ///   ride missing here is counted as not read back and otherwise left out.
    public func verify(server: [String: RideOnServer?], offersWhileBusy: Int) -> Report {
        var lost: [String] = []
        var unseen: [String] = []
        var unseenIDs: Set<String> = []
        var finished = 0
        var unfinished = 0
        var notReadBack = 0
        for (id, seen) in rides.sorted(by: { $0.key < $1.key }) {
            guard let read = server[id] else {
                notReadBack += 1
                continue
            }
            guard let now = read else {
                lost.append("\(id): acknowledged, now unknown to the server")
                continue
            }
            let seenRank = Self.rank[seen.status] ?? 0
            let serverRank = Self.rank[now.status] ?? 0
            if serverRank < seenRank {
                lost.append("\(id): the client saw \(seen.status), the server says \(now.status)")
            } else if Self.finalStatuses.contains(seen.status), now.status != seen.status {
                lost.append("\(id): ended \(seen.status), the server says \(now.status)")
            } else if Self.finalStatuses.contains(seen.status) {
                finished += 1
            } else if Self.finalStatuses.contains(now.status) {
                unseen.append("\(id): \(now.status) on the server, last seen \(seen.status)")
                unseenIDs.insert(id)
            } else {
                unfinished += 1
            }
        }
        return Report(
            acknowledged: rides.count,
            finished: finished,
            unfinished: unfinished,
            lost: lost,
            unseenEndings: unseen,
            doubleBookings: doubleBookings(ignoring: unseenIDs),
            offersWhileBusy: offersWhileBusy,
            notReadBack: notReadBack
        )
    }

    /// Walks each driver's assignments and endings in time order: a second assignment before the
    /// first one ended is a double booking. Rides whose ending the client never saw are left out (when
    /// they ended is unknown; they are reported as unseen endings instead).
    private func doubleBookings(ignoring unseen: Set<String>) -> [String] {
        var found: [String] = []
        for (driver, all) in holdings.sorted(by: { $0.key < $1.key }) {
            let events = all.filter { !unseen.contains($0.ride) }
            // Endings first at equal times: a ride that ended the moment the next began is fine.
            let ordered = events.sorted { ($0.at, $0.starts ? 1 : 0) < ($1.at, $1.starts ? 1 : 0) }
            var holding: String?
            for event in ordered {
                if event.starts {
                    if let current = holding, current != event.ride {
                        found.append("\(driver): \(current) / \(event.ride)")
                    }
                    holding = event.ride
                } else if holding == event.ride {
                    holding = nil
                }
            }
        }
        return found
    }
}
