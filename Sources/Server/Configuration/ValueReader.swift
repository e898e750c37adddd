import Configuration
import DispatchCore
import Foundation
import Geo

/// The spatial index's radius limit, for validating search radii.
enum SpatialIndexLimits {
    static let maximumRadius = SpatialIndex<DriverID>.maximumRadius.value
}

/// Reads raw option values and words errors with the option's variable and flag.
struct ValueReader {
    let reader: ConfigReader

    func string(_ key: String, secret: Bool = false) -> String? {
        reader.string(forKey: ConfigKey(key.split(separator: ".").map(String.init)), isSecret: secret)
    }

    /// The contents of the file an option names.
    func file(_ key: String, _ path: String) throws(ConfigurationError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw self.error(key, "names a file that cannot be read: \(path)")
        }
    }

    func error(_ key: String, _ problem: String) -> ConfigurationError {
        let option = ServerConfiguration.options.first { $0.key == key }
        let name = option.map { "\($0.environmentVariable) / \($0.flag)" } ?? key
        return ConfigurationError(problem.hasPrefix("=") ? "\(name)\(problem)" : "\(name) \(problem)")
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = string(key) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw error(key, "must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return number
    }

    func decimal(_ key: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        guard let text = string(key) else { return nil }
        guard let number = Double(text), number.isFinite, range.contains(number) else {
            throw error(
                key,
                "must be a number in \(range.lowerBound)...\(range.upperBound), got \"\(text.prefix(40))\""
            )
        }
        return number
    }
}

/// A configuration value that cannot be used; the server prints it and exits with status 2.
struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    let message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
