import Foundation

/// A scenario that cannot be read or makes no sense, with the field at fault.
public struct ScenarioError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Reads a scenario: the defaults of `Scenario`, then the file's fields, then command-line overrides.
///
/// Overrides are `--field value` or `--field=value`, the field in kebab case (`--request-rate 50`
/// sets `requestRate`). A value is read as JSON when it parses (numbers, booleans, `null`, or objects
/// and arrays such as `--region '{"minLat":…}'`), else as a string. Unknown fields are refused, in the
/// file and on the command line, so a typo never silently runs the default.
///
/// Our own rather than swift-configuration's: the scenario is a JSON document whose camel-case keys
/// must round-trip to flags and back, and the whole document is validated as one value.
public enum ScenarioLoader {
    /// The fields a scenario has (every stored property of `Scenario`, optional ones included).
    public static let fields: Set<String> = Set(Mirror(reflecting: Scenario()).children.compactMap(\.label))

    /// - Parameters:
    ///   - file: The scenario file's JSON (nil: the defaults alone).
    ///   - overrides: Field name (camel case) to raw value, in the order given.
    public static func load(
        file: Data?,
        overrides: [(field: String, value: String)] = []
    ) throws(ScenarioError)
        -> Scenario
    {
        var document = try object(of: Scenario())
        if let file {
            guard let fields = (try? JSONSerialization.jsonObject(with: file)) as? [String: Any] else {
                throw ScenarioError("the scenario file is not a JSON object")
            }
            for (key, value) in fields {
                guard Self.fields.contains(key) else { throw ScenarioError("unknown scenario field \"\(key)\"") }
                document[key] = value
            }
        }
        for (field, raw) in overrides {
            guard fields.contains(field) else { throw ScenarioError("unknown option --\(kebabCase(field))") }
            if document[field] is String {
                document[field] = raw
            } else if let data = raw.data(using: .utf8),
                let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            {
                document[field] = value
            } else {
                document[field] = raw
            }
        }
        document = document.filter { !($0.value is NSNull) }
        let scenario: Scenario
        do {
            let data = try JSONSerialization.data(withJSONObject: document)
            scenario = try JSONDecoder().decode(Scenario.self, from: data)
        } catch let error as DecodingError {
            throw ScenarioError(describe(error))
        } catch {
            throw ScenarioError("the scenario cannot be read: \(error)")
        }
        try validate(scenario)
        return scenario
    }

    /// Splits a command line into the loader's own options and scenario overrides.
    /// - Returns: Options the caller handles (`known`), and every other `--field value` as an override.
    public static func parse(
        arguments: [String],
        known: Set<String>
    ) throws(ScenarioError)
        -> (options: [String: String], overrides: [(field: String, value: String)])
    {
        var options: [String: String] = [:]
        var overrides: [(field: String, value: String)] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw ScenarioError("unexpected argument \"\(argument)\"; options are --name value")
            }
            var name = String(argument.dropFirst(2))
            var value: String
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            } else {
                index += 1
                guard index < arguments.endIndex else { throw ScenarioError("option --\(name) needs a value") }
                value = arguments[index]
            }
            if known.contains(name) {
                options[name] = value
            } else {
                overrides.append((camelCase(name), value))
            }
            index += 1
        }
        return (options, overrides)
    }

    /// Refuses values no run can use.
    public static func validate(_ scenario: Scenario) throws(ScenarioError) {
        func require(_ condition: Bool, _ message: String) throws(ScenarioError) {
            if !condition { throw ScenarioError(message) }
        }
        let region = scenario.region
        try require(
            region.minLat >= -85 && region.maxLat <= 85 && region.minLat < region.maxLat,
            "region: minLat must be below maxLat, both within ±85°"
        )
        try require(
            region.minLng >= -180 && region.maxLng <= 180 && region.minLng < region.maxLng,
            "region: minLng must be below maxLng, both within ±180°"
        )
        try require(scenario.durationSeconds > 0, "durationSeconds must be positive")
        try require(
            scenario.warmupSeconds >= 0 && scenario.drainSeconds >= 0,
            "warmupSeconds and drainSeconds must be ≥ 0"
        )
        try require(scenario.drivers >= 0, "drivers must be ≥ 0")
        try require(scenario.driverStreams >= 0, "driverStreams must be ≥ 0")
        try require(scenario.driverChannels >= 0, "driverChannels must be ≥ 0")
        try require(scenario.driverChannels <= scenario.drivers, "driverChannels must not exceed drivers")
        try require(scenario.locationIntervalSeconds > 0, "locationIntervalSeconds must be positive")
        try require(scenario.offerPollSeconds > 0, "offerPollSeconds must be positive")
        try require(scenario.driverSpeedKmh > 0, "driverSpeedKmh must be positive")
        try require(scenario.timeCompression >= 1, "timeCompression must be ≥ 1")
        for (name, value) in [
            ("acceptProbability", scenario.acceptProbability), ("declineShare", scenario.declineShare),
            ("acceptProbabilitySpread", scenario.acceptProbabilitySpread),
            ("hotspotShare", scenario.hotspotShare), ("cancelProbability", scenario.cancelProbability),
        ] {
            try require((0...1).contains(value), "\(name) must be within 0…1")
        }
        try require(
            scenario.thinkTimeMinSeconds >= 0 && scenario.thinkTimeMinSeconds <= scenario.thinkTimeMaxSeconds,
            "thinkTimeMinSeconds must be ≥ 0 and ≤ thinkTimeMaxSeconds"
        )
        try require(scenario.boardingSeconds >= 0, "boardingSeconds must be ≥ 0")
        try require(scenario.cancelWithinSeconds > 0, "cancelWithinSeconds must be positive")
        try require(
            scenario.tripMinMeters > 0 && scenario.tripMinMeters <= scenario.tripMaxMeters,
            "tripMinMeters must be positive and ≤ tripMaxMeters"
        )
        try require(scenario.requestRate >= 0, "requestRate must be ≥ 0")
        try require((scenario.rampToRate ?? 0) >= 0, "rampToRate must be ≥ 0")
        try require(
            (scenario.stepRate == nil) == (scenario.stepSeconds == nil),
            "stepRate and stepSeconds go together"
        )
        try require((scenario.stepSeconds ?? 1) > 0, "stepSeconds must be positive")
        let spike = [scenario.spikeRate, scenario.spikeAtSeconds, scenario.spikeSeconds]
        try require(
            spike.allSatisfy { $0 == nil } || spike.allSatisfy { $0 != nil },
            "spikeRate, spikeAtSeconds and spikeSeconds go together"
        )
        try require(scenario.rateProfile.peakRate > 0 || scenario.drivers > 0, "the scenario does nothing")
        try require(scenario.objectiveP99MatchMs > 0, "objectiveP99MatchMs must be positive")
        try require(scenario.httpConnections >= 1, "httpConnections must be ≥ 1")
        let cohorts = scenario.cohorts ?? []
        try require(
            cohorts.allSatisfy { (0...1).contains($0.share) } && cohorts.map(\.share).reduce(0, +) <= 1 + 1e-9,
            "cohorts: each share within 0…1, together at most 1"
        )
        try require(
            cohorts.allSatisfy {
                !$0.name.isEmpty && $0.name.count <= 32
                    && $0.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_" }
            }
                && Set(cohorts.map(\.name)).count == cohorts.count,
            "cohorts: distinct names of 1-32 of a-z, 0-9, '_' or '-'"
        )
        for hotspot in scenario.hotspots {
            try require(
                hotspot.radiusMeters > 0 && hotspot.weight > 0,
                "hotspot \(hotspot.name): radiusMeters and weight must be positive"
            )
        }
    }

    /// `requestRate` → `request-rate`.
    public static func kebabCase(_ name: String) -> String {
        name.reduce(into: "") { result, character in
            if character.isUppercase {
                result += "-" + character.lowercased()
            } else {
                result.append(character)
            }
        }
    }

    /// `request-rate` → `requestRate`.
    public static func camelCase(_ name: String) -> String {
        let parts = name.split(separator: "-")
        guard let first = parts.first else { return name }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    private static func object(of scenario: Scenario) throws(ScenarioError) -> [String: Any] {
        guard let data = try? JSONEncoder().encode(scenario),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { throw ScenarioError("the default scenario cannot be encoded") }
        return object
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "scenario field \(path.isEmpty ? "(top)" : path): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            return "scenario field \(path) is missing"
        @unknown default:
            return "the scenario cannot be read: \(error)"
        }
    }
}
