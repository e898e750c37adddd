import Foundation
import LoadTestKit

/// Writes a line to standard output at once (unbuffered, so progress shows when piped to a file).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Writes `dispatch-loadtest: MESSAGE` to standard error and exits.
/// - Parameters:
///   - message: What went wrong.
///   - status: The exit status (default: bad usage or no service).
func fail(_ message: String, status: Int32 = ExitStatus.usage) -> Never {
    FileHandle.standardError.write(Data("dispatch-loadtest: \(message)\n".utf8))
    exit(status)
}

/// Finds a scenario by file path or by name under the usual directories.
func scenarioFile(_ name: String) -> URL? {
    let manager = FileManager.default
    if manager.fileExists(atPath: name) { return URL(fileURLWithPath: name) }
    let directories =
        [ProcessInfo.processInfo.environment["LOADTEST_SCENARIOS"]].compactMap { $0 }
        + ["loadtest/scenarios", "scenarios", "/etc/dispatch-loadtest/scenarios"]
    for directory in directories {
        let path = "\(directory)/\(name).json"
        if manager.fileExists(atPath: path) { return URL(fileURLWithPath: path) }
    }
    return nil
}

/// Writes a file whole or not at all (atomically: a second Ctrl-C while results are written leaves no
/// half file), creating its directory; exits with a message when it cannot.
func write(_ text: String, to path: String) {
    do {
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(),
            withIntermediateDirectories: true
        )
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        fail("cannot write \(path): \(error)")
    }
}
