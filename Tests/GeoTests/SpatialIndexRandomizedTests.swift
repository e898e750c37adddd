import DispatchTestSupport
import Testing

@testable import Geo

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where randomised points are drawn from: each region stresses a different part of the grid.
enum Region: String, CaseIterable, Sendable {
    case seoul, hotspots, antimeridian, poles, globe

    func randomPoint(using rng: inout SeededGenerator) -> Coordinate {
        switch self {
        case .seoul:
            return point(Double.random(in: 37.42...37.70, using: &rng), Double.random(in: 126.76...127.18, using: &rng))
        case .hotspots:
            // Three dense spots (Gangnam, Hongdae, Seoul Station), with exact duplicates for ties.
            let spots = [point(37.4979, 127.0276), point(37.5563, 126.9220), point(37.5547, 126.9707)]
            let spot = spots[Int.random(in: 0..<spots.count, using: &rng)]
            if Int.random(in: 0..<4, using: &rng) == 0 { return spot }
            return spot.destination(
                bearing: Bearing(degrees: Double.random(in: 0..<360, using: &rng)),
                distance: Meters(Double.random(in: 0...400, using: &rng).rounded())
            )
        case .antimeridian:
            // Fiji and Chukotka, straddling 180°.
            let fiji = Bool.random(using: &rng)
            let latitude =
                fiji ? Double.random(in: -17.5 ... -15.5, using: &rng) : Double.random(in: 64...67, using: &rng)
            let longitude = Double.random(in: -0.6...0.6, using: &rng)
            return point(latitude, longitude < 0 ? 180 + longitude : -180 + longitude)
        case .poles:
            let north = Bool.random(using: &rng)
            let fromPole = Double.random(in: 0...0.15, using: &rng)
            return point(north ? 90 - fromPole : -90 + fromPole, Double.random(in: -180...180, using: &rng))
        case .globe:
            return point(Double.random(in: -90...90, using: &rng), Double.random(in: -180...180, using: &rng))
        }
    }
}

/// The brute-force reference: every point checked against the centre.
struct Oracle {
    var points: [String: Coordinate] = [:]

    func within(_ radius: Double, of center: Coordinate) -> [(key: String, distance: Double)] {
        points.map { (key: $0.key, distance: center.distance(to: $0.value).value) }
            .filter { $0.distance <= radius }
            .sorted { $0.distance < $1.distance || ($0.distance == $1.distance && $0.key < $1.key) }
    }
}

@Suite("SpatialIndex against a brute-force oracle")
struct SpatialIndexRandomizedTests {
    /// Applies `mutations` random inserts, moves and removes in `region`, comparing a nearest query and a
    /// within query with the oracle every `queryEvery` mutations and checking invariants every
    /// `checkEvery`.
    static func run(
        region: Region,
        seed: UInt64,
        mutations: Int,
        population: Int,
        queryEvery: Int = 1,
        checkEvery: Int = 1
    ) throws -> Int {
        var rng = SeededGenerator(seed: seed)
        var index = SpatialIndex<String>()
        var oracle = Oracle()
        var queries = 0
        for step in 1...mutations {
            let roll = Int.random(in: 0..<10, using: &rng)
            if oracle.points.count < population / 2 || (roll < 3 && oracle.points.count < population) {
                let key = "d\(Int.random(in: 0..<(population * 4), using: &rng))"
                let location = region.randomPoint(using: &rng)
                index.upsert(key, at: location)
                oracle.points[key] = location
            } else if roll < 8, let key = oracle.points.keys.randomElement(using: &rng), let from = oracle.points[key] {
                // Mostly small moves (a car between reports), sometimes a jump.
                let to =
                    roll < 7
                    ? from.destination(
                        bearing: Bearing(degrees: Double.random(in: 0..<360, using: &rng)),
                        distance: Meters(Double.random(in: 0...250, using: &rng))
                    )
                    : region.randomPoint(using: &rng)
                let inserted = index.upsert(key, at: to)
                #expect(!inserted)
                oracle.points[key] = to
            } else if let key = oracle.points.keys.randomElement(using: &rng) {
                let removed = index.remove(key)
                #expect(removed == oracle.points.removeValue(forKey: key))
            }
            if step % checkEvery == 0 {
                let problems = index.invariantViolations()
                try #require(problems == [], "after mutation \(step) in \(region)")
                #expect(index.count == oracle.points.count)
            }
            guard step % queryEvery == 0 else { continue }
            let center = region.randomPoint(using: &rng)
            let radii: [Double] = [100, 1_000, 3_000, 10_000, 50_000]
            let radius = radii[Int.random(in: 0..<radii.count, using: &rng)]
            let limit = Int.random(in: 1...20, using: &rng)
            let expected = oracle.within(radius, of: center)
            let nearest = try index.nearest(to: center, limit: limit, within: Meters(radius))
            try #require(
                nearest.map(\.key) == expected.prefix(limit).map(\.key),
                "nearest \(limit) within \(radius) m of \(center) after mutation \(step) in \(region)"
            )
            #expect(nearest.map(\.distance.value) == expected.prefix(limit).map(\.distance))
            #expect(nearest.allSatisfy { oracle.points[$0.key] == $0.coordinate })
            if step % (queryEvery * 5) == 0 {
                let all = try index.all(within: Meters(min(radius, 10_000)), of: center)
                try #require(all.map(\.key) == oracle.within(min(radius, 10_000), of: center).map(\.key))
            }
            queries += 1
        }
        return queries
    }

    @Test("every mutation keeps invariants; every query matches the oracle", arguments: Region.allCases)
    func everyStep(region: Region) throws {
        let queries = try Self.run(region: region, seed: 0x5EED_0001, mutations: 1_500, population: 120)
        #expect(queries == 1_500)
    }

    @Test("20,000+ mutations across all regions at a larger population", arguments: Region.allCases)
    func manyMutations(region: Region) throws {
        // 5 regions × 5,000 = 25,000 mutations, each region with up to 1,500 live points.
        let queries = try Self.run(
            region: region,
            seed: 0x5EED_0002 &+ UInt64(region.rawValue.count),
            mutations: 5_000,
            population: 1_500,
            queryEvery: 5,
            checkEvery: 50
        )
        #expect(queries == 1_000)
    }

    @Test(
        "soak: a million mutations (set GEO_SOAK=1)",
        .enabled(if: ProcessInfo.environmentValue("GEO_SOAK") == "1")
    )
    func soak() throws {
        for region in Region.allCases {
            _ = try Self.run(
                region: region,
                seed: 0x50A4,
                mutations: 200_000,
                population: 20_000,
                queryEvery: 100,
                checkEvery: 20_000
            )
        }
    }
}

enum ProcessInfo {
    static func environmentValue(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
