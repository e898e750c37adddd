import Foundation
import LoadTestKit
import Synchronization
import UnixSignals

/// SIGINT and SIGTERM during a run (swift-service-lifecycle's `UnixSignalsSequence`): the first one
/// while load is generated ends the run early, so its summary and result files are still written;
/// before the run, after it, or a second time, the process exits at once with status 130.
final class SignalTrap: Sendable {
    private let state = Mutex(InterruptState())

    /// Installs the handlers; from here on the signals no longer kill the process by themselves.
    func install() async {
        // A job a non-interactive shell starts in the background begins with SIGINT ignored; a signal
        // ignored is discarded before the handler could see it. Scripts stop a run with SIGINT too.
        _ = signal(SIGINT, SIG_DFL)
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        // Lives as long as the process: it is what turns a signal into an early end or an exit.
        Task { [self] in
            for await received in signals {
                let name = received == .sigint ? "SIGINT" : "SIGTERM"
                switch state.withLock({ $0.received(name) }) {
                case .finishEarly:
                    FileHandle.standardError.write(
                        Data(
                            ("dispatch-loadtest: \(name): stopping the load, then writing the summary and results "
                                + "(again to exit at once)\n").utf8
                        )
                    )
                case .exitNow:
                    FileHandle.standardError.write(Data("dispatch-loadtest: \(name): exiting\n".utf8))
                    exit(ExitStatus.interrupted)
                }
            }
        }
    }

    /// Load is about to be generated: the first signal from now on finishes the run early.
    func start() { state.withLock { $0.start() } }

    /// The run has its results: a signal from now on exits at once.
    func finish() { state.withLock { $0.finish() } }

    /// Whether a signal told the run to finish early.
    var isInterrupted: Bool { state.withLock { $0.isInterrupted } }
}
