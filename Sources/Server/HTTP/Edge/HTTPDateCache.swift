import Foundation
import NIOHTTP1
import Synchronization

/// The `Date` header's value, formatted once a second rather than for every answer, with the edge's
/// most frequent answer (`204 No Content`) built along with it.
final class HTTPDateCache: Sendable {
    private struct Cached {
        var second = -1
        var date = ""
        var noContent = HTTPResponseHead(version: .http1_1, status: .noContent)
    }

    private let cached = Mutex(Cached())

    /// The current time as an HTTP date.
    func current() -> String {
        refreshed().date
    }

    /// `204 No Content` with `Date` and `Server`.
    func noContent() -> HTTPResponseHead {
        refreshed().noContent
    }

    private func refreshed() -> Cached {
        let now = Date()
        let second = Int(now.timeIntervalSince1970)
        return cached.withLock { cached in
            if cached.second != second {
                let date = Timestamps.httpDate(now)
                cached = Cached(
                    second: second,
                    date: date,
                    noContent: HTTPResponseHead(
                        version: .http1_1,
                        status: .noContent,
                        headers: ["Date": date, "Server": Self.server]
                    )
                )
            }
            return cached
        }
    }

    /// The `Server` header of every answer.
    static let server = "dispatch-server"
}
