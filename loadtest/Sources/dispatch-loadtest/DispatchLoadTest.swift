import ArgumentParser
import Foundation
import LoadTestKit

/// `dispatch-loadtest`: runs a scenario against a running dispatch service (`run`, the default), builds
/// a report from result files (`report`), benchmarks driver channels (`channel-bench`), or checks what
/// a hostile client can do (`abuse`).
@main
struct DispatchLoadTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch-loadtest",
        abstract: "Load tests a running dispatch service as rider and driver apps would.",
        discussion: """
            Without a subcommand, runs a scenario: `dispatch-loadtest --scenario city` is \
            `dispatch-loadtest run --scenario city`. Each subcommand has its own --help.

            Exit status: 0 passed; 1 the run saw errors or lost rides (or the subcommand's check \
            failed); 2 bad usage or no service; 130 interrupted (SIGINT or SIGTERM) before the end.
            """,
        // The release this load test belongs to: the same as `dispatch-server --version`
        // (scripts/smoke-test, scripts/smoke-image).
        version: "dispatch-loadtest 0.10.0",
        subcommands: [RunCommand.self, ReportCommand.self, ChannelBench.self, AbuseTest.self],
        defaultSubcommand: RunCommand.self
    )

    /// Parses and runs the command, with our exit statuses: ArgumentParser's usage errors exit 64
    /// (`EX_USAGE`); scripts and CI read 2 for bad usage.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}
