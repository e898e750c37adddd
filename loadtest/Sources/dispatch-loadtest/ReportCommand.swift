import ArgumentParser
import Foundation
import LoadTestKit

/// `dispatch-loadtest report`: one HTML report of several runs' result files.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Draws one HTML report of several runs' result files.",
        discussion: """
            Reads the result JSON files that `run` wrote and draws them in one self-contained HTML \
            page; runs with different matching modes or rankings end with a side-by-side comparison.

            Exit status: 0 written; 2 bad usage, or a file that is not a dispatch-loadtest result.
            """
    )

    @Argument(help: ArgumentHelp("Result files (DIR/NAME-<time>.json).", valueName: "result.json"))
    var results: [String]

    @Option(help: ArgumentHelp("The report to write.", valueName: "file.html"))
    var out = "loadtest/results/report.html"

    func validate() throws {
        if results.isEmpty { throw ValidationError("give at least one result file") }
    }

    func run() async throws {
        let runs = results.map { file -> RunResult in
            guard let data = FileManager.default.contents(atPath: file),
                let result = try? JSONDecoder().decode(RunResult.self, from: data)
            else { fail("\(file) is not a dispatch-loadtest result") }
            return result
        }
        write(HTMLReport.render(runs), to: out)
        say("report: \(out)")
    }
}
