import Geo
import Testing

@testable import LoadTestKit

@Suite("Movement and the city map")
struct MovementTests {
    let seoulStation = try! Coordinate(latitude: 37.5547, longitude: 126.9707)
    let gangnam = try! Coordinate(latitude: 37.4979, longitude: 127.0276)

    @Test("a car covers speed × time along the line to its target, and stops there")
    func advance() {
        let total = seoulStation.distance(to: gangnam).value
        let step = Movement.advance(from: seoulStation, toward: gangnam, metersPerSecond: 10, seconds: 60)
        #expect(!step.arrived)
        #expect(abs(seoulStation.distance(to: step.position).value - 600) < 0.5)
        #expect(abs(step.position.distance(to: gangnam).value - (total - 600)) < 0.5)
        let arrived = Movement.advance(from: seoulStation, toward: gangnam, metersPerSecond: 10, seconds: 10_000)
        #expect(arrived.arrived && arrived.position == gangnam)
        let still = Movement.advance(from: seoulStation, toward: gangnam, metersPerSecond: 10, seconds: -5)
        #expect(still.position == seoulStation && !still.arrived)
    }

    @Test("pickups stay in the region, and the hotspot share of them lands on hotspots")
    func pickups() {
        var scenario = Scenario()
        scenario.hotspotShare = 0.6
        let city = CityMap(scenario: scenario)
        var random = SplitMix64(seed: 5)
        let points = (0..<5_000).map { _ in city.pickup(&random) }
        #expect(points.allSatisfy(city.contains))
        let onHotspot = points.filter { point in
            scenario.hotspots.contains { hotspot in
                let center = try! Coordinate(latitude: hotspot.lat, longitude: hotspot.lng)
                return point.distance(to: center).value <= hotspot.radiusMeters + 1
            }
        }.count
        // 60 % drawn from hotspots plus the few uniform draws that fall on one (the discs cover ~1 %).
        #expect(abs(Double(onHotspot) / 5_000 - 0.61) < 0.03)
    }

    @Test("a drop-off is the trip's length away and inside the region, even from the edge")
    func dropoffs() {
        let city = CityMap(scenario: Scenario())
        var random = SplitMix64(seed: 11)
        let corner = try! Coordinate(latitude: 37.421, longitude: 126.761)
        for _ in 0..<500 {
            let dropoff = city.dropoff(from: corner, tripMeters: 5_000, &random)
            #expect(city.contains(dropoff))
            #expect(abs(corner.distance(to: dropoff).value - 5_000) < 1)
        }
    }
}
