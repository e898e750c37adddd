import DispatchCore
import Foundation
import Logging
import PostgresNIO

/// `dispatch-server replay [--ride ID] [--since TIME] [--limit N] [--verbose]`: reads the stored
/// decision records (`offer_decisions`) from the database the server uses (`DATABASE_URL`, or
/// `POSTGRES_HOST` and friends) and re-runs each with `DecisionReplay`, from its record alone.
///
/// Prints each decision that does not reproduce (every decision with `--verbose`) and a summary.
/// Exit status: 0 when every decision reproduced, 1 when one differs or names an unknown policy, 2 for
/// bad usage or a database that cannot be read.
enum ReplayCommand {
    static let usage = """
        usage: dispatch-server replay [--ride ID] [--since RFC3339-TIME] [--limit N] [--verbose]

        Re-runs the stored dispatch decisions from their records (DATABASE_URL, or POSTGRES_HOST and
        friends, as the server reads them) and shows that each is what its policy gives for those
        inputs. --ride replays one ride's offers; otherwise decisions from --since (default: all) in
        time order, at most --limit (default 100000). Whole batches are re-run together.
        Exit status: 0 all reproduced, 1 something differs, 2 bad usage or no database.
        """

    struct Request: Equatable {
        var ride: RideID?
        var since: Date = .distantPast
        var limit = 100_000
        var verbose = false

        init(ride: RideID? = nil, since: Date = .distantPast, limit: Int = 100_000, verbose: Bool = false) {
            self.ride = ride
            self.since = since
            self.limit = limit
            self.verbose = verbose
        }
    }

    /// Reads the flags.
    /// - Throws: `ConfigurationError` with what is wrong.
    static func parse(_ arguments: [String]) throws(ConfigurationError) -> Request {
        var request = Request()
        var remaining = arguments[...]
        while let flag = remaining.popFirst() {
            if flag == "--verbose" {
                request.verbose = true
                continue
            }
            guard let value = remaining.popFirst() else { throw ConfigurationError("\(flag) needs a value\n\(usage)") }
            switch flag {
            case "--ride":
                guard let ride = try? RideID(value) else {
                    throw ConfigurationError("--ride \(value) is not a ride ID")
                }
                request.ride = ride
            case "--since":
                guard let since = Timestamps.parse(value) else {
                    throw ConfigurationError("--since must be an RFC 3339 time, got \"\(value)\"")
                }
                request.since = since
            case "--limit":
                guard let limit = Int(value), (1...10_000_000).contains(limit) else {
                    throw ConfigurationError("--limit must be an integer in 1...10000000, got \"\(value)\"")
                }
                request.limit = limit
            default:
                throw ConfigurationError("unknown option \(flag)\n\(usage)")
            }
        }
        return request
    }

    /// The tally of a replay.
    struct Summary: Equatable {
        var reproduced = 0
        var rankingReproduced = 0
        var differs = 0
        var unknownPolicy = 0

        init(reproduced: Int = 0, rankingReproduced: Int = 0, differs: Int = 0, unknownPolicy: Int = 0) {
            self.reproduced = reproduced
            self.rankingReproduced = rankingReproduced
            self.differs = differs
            self.unknownPolicy = unknownPolicy
        }

        var total: Int { reproduced + rankingReproduced + differs + unknownPolicy }
        var passed: Bool { differs == 0 && unknownPolicy == 0 }

        mutating func count(_ verdict: DecisionReplay.Verdict) {
            switch verdict {
            case .reproduced: reproduced += 1
            case .rankingReproduced: rankingReproduced += 1
            case .differs: differs += 1
            case .unknownPolicy: unknownPolicy += 1
            }
        }

        var line: String {
            "replayed \(total) decisions: \(reproduced) reproduced, \(rankingReproduced) ranking reproduced "
                + "(batch group not all stored or selected), \(differs) differ, \(unknownPolicy) unknown policy"
        }
    }

    /// Runs the command; returns the exit status.
    static func run(arguments: [String], environment: [String: String]) async -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(usage)
            return 0
        }
        let request: Request
        let database: DatabaseConfiguration
        do {
            request = try parse(arguments)
            if let url = environment["DATABASE_URL"], !url.isEmpty {
                database = try DatabaseConfiguration(url: url)
            } else if let configured = try DatabaseConfiguration(environment: environment) {
                database = configured
            } else {
                throw ConfigurationError("replay reads the database: set DATABASE_URL (or POSTGRES_HOST)")
            }
        } catch {
            FileHandle.standardError.write(Data("dispatch-server replay: \(error)\n".utf8))
            return 2
        }
        let logger = Logger(label: "dispatch-replay")
        let client = PostgresClient(configuration: database.client, backgroundLogger: logger)
        let running = Task { await client.run() }
        defer { running.cancel() }
        do {
            let summary = try await replay(request, on: client, logger: logger) { print($0) }
            print(summary.line)
            return summary.passed ? 0 : 1
        } catch {
            FileHandle.standardError.write(
                Data("dispatch-server replay: cannot read the decisions: \(String(reflecting: error))\n".utf8)
            )
            return 2
        }
    }

    /// Replays what `request` selects, page by page (a page never splits the offers of one instant,
    /// so a batch is replayed whole), and says each decision that does not reproduce to `say`.
    static func replay(
        _ request: Request,
        on client: PostgresClient,
        pageSize: Int = 5_000,
        logger: Logger,
        say: (String) -> Void
    ) async throws -> Summary {
        var summary = Summary()
        func judge(_ records: [DecisionRecordJSON]) throws {
            let findings = DecisionReplay.replay(try records.map { try $0.replayRecord() })
            for (record, finding) in zip(records, findings) {
                summary.count(finding.verdict)
                guard request.verbose || finding.verdict != .reproduced else { continue }
                let details = finding.verdict.details.joined(separator: "; ")
                say(
                    "\(finding.verdict.name) \(record.rideId)#\(record.sequence) \(record.offeredAt) "
                        + "\(record.policy) -> \(record.driverId)" + (details.isEmpty ? "" : ": \(details)")
                )
            }
        }
        if let ride = request.ride {
            try judge(try await DecisionRows.read(ride: ride, on: client, logger: logger))
            return summary
        }
        var since = request.since
        var remaining = request.limit
        while remaining > 0 {
            var page = try await DecisionRows.read(
                since: since,
                limit: min(pageSize, remaining),
                on: client,
                logger: logger
            )
            guard let last = page.last?.offeredAt else { break }
            let full = page.count == min(pageSize, remaining)
            if full, page.count < remaining, page.first?.offeredAt != last {
                // The last instant may go on in the next page: it starts there, whole.
                page.removeAll { $0.offeredAt == last }
                since = last
            } else {
                since = last.addingTimeInterval(0.000_001)
            }
            try judge(page.map(\.record))
            remaining -= page.count
            if !full { break }
        }
        return summary
    }
}
