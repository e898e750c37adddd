import Testing

@testable import Geo

/// Builds a coordinate from literals known to be valid.
func point(_ latitude: Double, _ longitude: Double) -> Coordinate {
    // Test literals only; a typo here should fail loudly.
    try! Coordinate(latitude: latitude, longitude: longitude)
}

@Suite("SpatialIndex: operations and edge cases")
struct SpatialIndexTests {
    @Test("insert, move, look up and remove keep the index consistent")
    func basicOperations() throws {
        var index = SpatialIndex<String>()
        #expect(index.isEmpty)
        let insertedA = index.upsert("a", at: point(37.5665, 126.978))
        let insertedB = index.upsert("b", at: point(37.5670, 126.979))
        #expect(insertedA && insertedB)
        #expect(index.count == 2)
        #expect(index.position(of: "a") == point(37.5665, 126.978))

        // Moving within the cell and across cells both update the position.
        let insertedAgain = index.upsert("a", at: point(37.56651, 126.97801))
        #expect(!insertedAgain)
        #expect(index.position(of: "a") == point(37.56651, 126.97801))
        index.upsert("a", at: point(37.60, 127.05))
        #expect(index.position(of: "a") == point(37.60, 127.05))
        #expect(index.count == 2)
        #expect(index.invariantViolations() == [])

        let removed = index.remove("a")
        let removedTwice = index.remove("a")
        #expect(removed == point(37.60, 127.05))
        #expect(removedTwice == nil)
        #expect(!index.contains("a"))
        #expect(index.position(of: "b") == point(37.5670, 126.979))
        #expect(index.invariantViolations() == [])

        index.removeAll()
        #expect(index.isEmpty)
        #expect(try index.nearest(to: point(37.5, 127), limit: 5, within: 50_000) == [])
        #expect(index.invariantViolations() == [])
    }

    @Test("nearest returns ascending distances, exact, limited and within the radius")
    func nearestOrdering() throws {
        var index = SpatialIndex<String>()
        let center = point(37.5665, 126.978)
        for (i, meters) in [50.0, 10, 400, 2_999, 3_001, 1_000].enumerated() {
            index.upsert(
                "d\(i)",
                at: center.destination(bearing: Bearing(degrees: Double(i) * 60), distance: Meters(meters))
            )
        }
        let found = try index.nearest(to: center, limit: 10, within: 3_000)
        #expect(found.map(\.key) == ["d1", "d0", "d2", "d5", "d3"])
        for neighbor in found {
            #expect(neighbor.distance == center.distance(to: neighbor.coordinate))
        }
        #expect(try index.nearest(to: center, limit: 2, within: 3_000).map(\.key) == ["d1", "d0"])
        #expect(try index.nearest(to: center, limit: 10, within: 5).isEmpty)
    }

    @Test("equal distances are ordered by key, including at the limit")
    func tiesBrokenByKey() throws {
        var index = SpatialIndex<String>()
        let spot = point(37.5, 127.0)
        for key in ["e", "c", "a", "d", "b"] { index.upsert(key, at: spot) }
        index.upsert("z", at: point(37.5001, 127.0))
        #expect(try index.nearest(to: spot, limit: 3, within: 1_000).map(\.key) == ["a", "b", "c"])
        #expect(try index.all(within: 1_000, of: spot).map(\.key) == ["a", "b", "c", "d", "e", "z"])
    }

    @Test(
        "queries see across the antimeridian (Fiji, Chukotka)",
        arguments: [
            // (centre, point on the other side of 180°, metres apart at most)
            (point(-17.0, 179.999), point(-17.0, -179.999), 300.0),
            (point(-16.8, -179.98), point(-16.8, 179.99), 4_000.0),
            (point(65.5, 180.0), point(65.5, 179.95), 3_000.0),
            (point(66.0, -179.9), point(66.0, 179.8), 14_000.0),
        ]
    )
    func antimeridian(center: Coordinate, other: Coordinate, within: Double) throws {
        var index = SpatialIndex<String>()
        index.upsert("other-side", at: other)
        index.upsert("far", at: center.destination(bearing: .south, distance: Meters(within * 3)))
        let found = try index.nearest(to: center, limit: 5, within: Meters(within))
        #expect(found.map(\.key) == ["other-side"])
        #expect(found.first?.distance == center.distance(to: other))
        #expect(try index.all(within: Meters(within), of: center).map(\.key) == ["other-side"])
    }

    @Test(
        "queries near the poles find points on every side of the pole",
        arguments: [90.0, -90.0]
    )
    func poles(poleLatitude: Double) throws {
        var index = SpatialIndex<String>()
        let sign = poleLatitude > 0 ? 1.0 : -1.0
        let pole = point(poleLatitude, 0)
        // Twelve points 1 km from the pole on meridians 30° apart, and the pole itself.
        for step in 0..<12 {
            let longitude = Double(step) * 30 - 180
            index.upsert("ring-\(step)", at: point(sign * (90 - 1_000 / 111_195.08), longitude))
        }
        index.upsert("pole", at: pole)
        #expect(index.invariantViolations() == [])
        let fromPole = try index.all(within: 1_001, of: pole)
        #expect(fromPole.count == 13)
        #expect(fromPole.first?.key == "pole")
        // From a point 3 km off the pole, on the 90° meridian, the far side of the ring is ~4 km away.
        let offPole = point(sign * (90 - 3_000 / 111_195.08), 90)
        let nearest = try index.nearest(to: offPole, limit: 20, within: 5_000)
        #expect(nearest.count == 13)
        let distances = nearest.map(\.distance.value)
        #expect(distances == distances.sorted())
        #expect(abs(distances[0] - 2_000) < 1)  // ring point on the same meridian
        #expect(abs(distances[12] - 4_000) < 1)  // ring point on the opposite meridian
    }

    @Test("a circle containing a pole and crossing the antimeridian finds everything once")
    func poleAndAntimeridian() throws {
        var index = SpatialIndex<String>()
        for step in 0..<360 {
            index.upsert("p\(step)", at: point(89.99, Double(step) - 180))
        }
        let found = try index.all(within: 50_000, of: point(89.9, 179.9))
        #expect(found.count == 360)
        #expect(Set(found.map(\.key)).count == 360)
    }

    @Test(
        "bad query input is a thrown error, not a crash",
        arguments: [
            (-1.0, 10, GeoError.Code.invalidRadius),
            (Double.nan, 10, .invalidRadius),
            (Double.infinity, 10, .invalidRadius),
            (100_001.0, 10, .invalidRadius),
            (1_000.0, 0, .invalidLimit),
            (1_000.0, -5, .invalidLimit),
        ]
    )
    func badQueries(radius: Double, limit: Int, code: GeoError.Code) {
        var index = SpatialIndex<Int>()
        index.upsert(1, at: point(0, 0))
        #expect {
            try index.nearest(to: point(0, 0), limit: limit, within: Meters(radius))
        } throws: { error in
            (error as? GeoError)?.code == code
        }
        if code == .invalidRadius {
            #expect(throws: GeoError.self) { try index.all(within: Meters(radius), of: point(0, 0)) }
        }
    }

    @Test("a radius of zero finds points at exactly the centre")
    func zeroRadius() throws {
        var index = SpatialIndex<Int>()
        index.upsert(1, at: point(10, 10))
        index.upsert(2, at: point(10, 10.000001))
        #expect(try index.nearest(to: point(10, 10), limit: 5, within: .zero).map(\.key) == [1])
    }

    @Test("removal recycles cells and blocks: memory follows the live points")
    func recycling() throws {
        var index = SpatialIndex<Int>()
        for key in 0..<1_000 {
            index.upsert(key, at: point(Double(key % 180) - 89.5, Double(key) * 0.35 - 179))
        }
        let bucketsWhenFull = index.storage.buckets.count
        let blocksWhenFull = index.storage.blockOccupancy.count
        for key in 0..<1_000 { index.remove(key) }
        #expect(index.invariantViolations() == [])
        #expect(index.storage.blockTable.isEmpty)
        for key in 0..<1_000 {
            index.upsert(key, at: point(Double(key % 180) - 89.5, Double(key) * 0.35 - 179))
        }
        #expect(index.invariantViolations() == [])
        // Refilling reuses the recycled buckets and blocks instead of allocating new ones.
        #expect(index.storage.buckets.count == bucketsWhenFull)
        #expect(index.storage.blockOccupancy.count == blocksWhenFull)
    }

    @Test("a point leaving a cell leaves a hole that the next arrival fills; queries never see holes")
    func holesAreReused() throws {
        var index = SpatialIndex<String>()
        let home = point(37.5, 127.0)
        let away = home.destination(bearing: .east, distance: 5_000)
        for key in ["a", "b", "c"] { index.upsert(key, at: home) }
        let bucket = try #require(index.places["a"]).bucket
        for _ in 0..<100 {
            index.upsert("b", at: away)
            #expect(try index.nearest(to: home, limit: 10, within: 100).map(\.key) == ["a", "c"])
            index.upsert("b", at: home)
        }
        #expect(index.storage.buckets[Int(bucket)].members.count == 3)
        #expect(try index.nearest(to: home, limit: 10, within: 100).map(\.key) == ["a", "b", "c"])
        #expect(index.invariantViolations() == [])
    }
}

@Suite("SpatialIndex.compact")
struct SpatialIndexCompactTests {
    @Test("compacting keeps every point and answer, and gives back the memory of points removed")
    func compactKeepsPoints() throws {
        var index = SpatialIndex<Int>()
        let center = try Coordinate(latitude: 37.5665, longitude: 126.978)
        for key in 0..<20_000 {
            index.upsert(
                key,
                at: center.destination(
                    bearing: Bearing(degrees: Double(key % 360)),
                    distance: Meters(Double(key % 5_000))
                )
            )
        }
        let full = index.estimatedMemoryBytes
        for key in 100..<20_000 { index.remove(key) }
        let before = try index.nearest(to: center, limit: 50, within: 10_000)
        index.compact()
        #expect(index.count == 100)
        #expect(try index.nearest(to: center, limit: 50, within: 10_000) == before)
        #expect(index.invariantViolations() == [])
        #expect(index.estimatedMemoryBytes < full / 4)
    }
}
