import Synchronization

/// An operation took longer than allowed.
struct TimeoutError: Error {}

/// Runs `body`, failing with `TimeoutError` once `duration` has passed, without waiting for `body`:
/// for I/O that may not notice cancellation (a query on a connection the network has silently
/// dropped). `body` is cancelled and left to finish in the background; its result is discarded.
func withDeadline<T: Sendable>(
    _ duration: Duration,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = FirstOutcome<T>()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        race.start(continuation, body: body, deadline: duration)
    }
}

/// Whichever comes first, the body's outcome or the deadline, resumes the waiter; the other is ignored.
private final class FirstOutcome<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    func start(
        _ continuation: CheckedContinuation<T, any Error>,
        body: @escaping @Sendable () async throws -> T,
        deadline: Duration
    ) {
        state.withLock { $0.continuation = continuation }
        let work = Task {
            do { finish(.success(try await body())) } catch { finish(.failure(error)) }
            state.withLock { $0.timer }?.cancel()
        }
        let timer = Task {
            guard (try? await Task.sleep(for: deadline)) != nil else { return }
            finish(.failure(TimeoutError()))
            state.withLock { $0.work }?.cancel()
        }
        state.withLock {
            $0.work = work
            $0.timer = timer
        }
    }

    private func finish(_ result: Result<T, any Error>) {
        let continuation = state.withLock { state in
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }
}
