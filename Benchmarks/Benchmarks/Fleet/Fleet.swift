import Geo

/// Synthetic fleets for the benchmarks: drivers over Seoul, uniform or clustered in hotspots.
public enum Layout: String, CaseIterable, Sendable {
    /// Uniform over Seoul's box, 37.42–37.70 N, 126.76–127.18 E.
    case uniform
    /// Half the drivers within ~1.5 km of five hotspots (Gangnam, Hongdae, Seoul Station, Jamsil,
    /// Yeouido), half uniform.
    case hotspots
}

/// SplitMix64, seeded, so every run builds the same fleet.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

public enum Fleet {
    public static let hotspots: [Coordinate] = [
        (37.4979, 127.0276), (37.5563, 126.9220), (37.5547, 126.9707), (37.5133, 127.1001), (37.5219, 126.9245),
    ].compactMap { try? Coordinate(latitude: $0.0, longitude: $0.1) }

    /// A random point of the layout.
    public static func randomPoint(_ layout: Layout, using rng: inout SplitMix64) -> Coordinate {
        if layout == .hotspots, Bool.random(using: &rng), let spot = hotspots.randomElement(using: &rng) {
            // Density falling off with distance: uniform radius gives a dense centre.
            return spot.destination(
                bearing: Bearing(degrees: Double.random(in: 0..<360, using: &rng)),
                distance: Meters(Double.random(in: 0...1_500, using: &rng))
            )
        }
        let latitude = Double.random(in: 37.42...37.70, using: &rng)
        let longitude = Double.random(in: 126.76...127.18, using: &rng)
        return (try? Coordinate(latitude: latitude, longitude: longitude)) ?? hotspots[0]
    }
}
