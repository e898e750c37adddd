import DequeModule
import DispatchCore
import Synchronization

/// How many event streams (Server-Sent Events and driver channels) are open, per subject and in all.
///
/// A subject has at most `perSubject` open (an app that reconnects without closing its old stream,
/// or a script that opens streams in a loop): when one more opens, the subject's oldest is closed.
/// The instance has at most `total` (`MAX_STREAMS`): one more is refused `503 capacity_exhausted`,
/// since every stream holds a connection and a buffer.
final class StreamLimits: Sendable {
    let perSubject: Int
    let total: Int

    private struct State {
        var bySubject: [String: Deque<StreamTicket>] = [:]
        var open = 0
    }

    private let state = Mutex(State())

    init(perSubject: Int = 2, total: Int) {
        self.perSubject = perSubject
        self.total = total
    }

    /// Counts a stream a caller opens, before anything is subscribed.
    /// - Parameter caller: Who opens it; operators are held to the total only.
    /// - Returns: The stream's ticket: tell it how to close the stream (`onClose`), and give it back
    ///   (`release`) when the stream ends, however it ends.
    /// - Throws: `capacityExhausted` when `total` streams are open.
    func open(for caller: Caller) throws(DispatchError) -> StreamTicket {
        let subject = caller.role == .ops ? nil : "\(caller.role.rawValue):\(caller.subject)"
        let ticket = StreamTicket(subject: subject)
        let outcome: [StreamTicket]? = state.withLock { state in
            guard state.open < total else { return nil }
            state.open += 1
            guard let subject else { return [] }
            var tickets = state.bySubject[subject] ?? []
            tickets.append(ticket)
            var pushedOut: [StreamTicket] = []
            while tickets.count > perSubject { pushedOut.append(tickets.removeFirst()) }
            state.bySubject[subject] = tickets
            return pushedOut
        }
        guard let pushedOut = outcome else {
            throw DispatchError(
                .capacityExhausted,
                "this instance has its maximum of \(total) event streams open; retry later"
            )
        }
        for older in pushedOut { older.close() }
        return ticket
    }

    /// Gives a stream's place back when it ends (a second release does nothing).
    func release(_ ticket: StreamTicket) {
        guard ticket.markReleased() else { return }
        state.withLock { state in
            state.open -= 1
            guard let subject = ticket.subject else { return }
            state.bySubject[subject]?.removeAll { $0 === ticket }
            if state.bySubject[subject]?.isEmpty == true { state.bySubject[subject] = nil }
        }
    }

    /// Streams open now.
    var openCount: Int { state.withLock { $0.open } }
}

/// One open stream's registration with `StreamLimits`.
final class StreamTicket: Sendable {
    let subject: String?

    private enum State {
        /// Open; how to close it, once the stream's owner has said.
        case open((@Sendable () -> Void)?)
        /// Pushed out before its owner said how to close it: closed as soon as it does.
        case closeRequested
        case released
    }

    private let state = Mutex(State.open(nil))

    fileprivate init(subject: String?) {
        self.subject = subject
    }

    /// How to end the stream when a newer one of its subject pushes it out.
    func onClose(_ close: @escaping @Sendable () -> Void) {
        let closeNow = state.withLock { state -> Bool in
            switch state {
            case .open:
                state = .open(close)
                return false
            case .closeRequested: return true
            case .released: return false
            }
        }
        if closeNow { close() }
    }

    fileprivate func close() {
        let close = state.withLock { state -> (@Sendable () -> Void)? in
            guard case .open(let close) = state else { return nil }
            if close == nil { state = .closeRequested }
            return close
        }
        close?()
    }

    /// Marks the ticket given back; false if it already was.
    fileprivate func markReleased() -> Bool {
        state.withLock { state in
            if case .released = state { return false }
            state = .released
            return true
        }
    }
}
