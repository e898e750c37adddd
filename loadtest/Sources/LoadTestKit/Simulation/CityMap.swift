import Foundation
import Geo

/// Where things happen in the simulated city: the service area, its demand hotspots and, when the
/// scenario names a road graph, its roads.
public struct CityMap: Sendable {
    public let region: Scenario.Region
    public let hotspots: [Scenario.Hotspot]
    public let hotspotShare: Double
    /// The roads places are put on: the nodes inside the region, and the graph to snap to.
    public let roads: RoadGraph?
    private let roadNodes: [Int]
    private let cumulativeWeights: [Double]

    /// - Parameter roads: The scenario's road graph (`Scenario.roadGraph`), already read.
    public init(scenario: Scenario, roads: RoadGraph? = nil) {
        self.roads = roads
        region = scenario.region
        roadNodes =
            roads.map { graph in
                graph.coordinates.indices.filter { node in
                    let place = graph.coordinates[node]
                    return (scenario.region.minLat...scenario.region.maxLat).contains(place.latitude)
                        && (scenario.region.minLng...scenario.region.maxLng).contains(place.longitude)
                }
            } ?? []
        hotspots = scenario.hotspots
        hotspotShare = scenario.hotspots.isEmpty ? 0 : scenario.hotspotShare
        var total = 0.0
        cumulativeWeights = scenario.hotspots.map { hotspot in
            total += hotspot.weight
            return total
        }
    }

    /// A point anywhere in the region, uniform in latitude and longitude; with roads, a road node
    /// inside the region, each as likely.
    public func anywhere(_ random: inout SplitMix64) -> Coordinate {
        if let roads, !roadNodes.isEmpty {
            return roads.coordinates[roadNodes[Int(random.unit() * Double(roadNodes.count)) % roadNodes.count]]
        }
        return clamped(
            lat: random.uniform(region.minLat...region.maxLat),
            lng: random.uniform(region.minLng...region.maxLng)
        )
    }

    /// A pickup: from a hotspot (by weight, uniform over its disc) with `hotspotShare`, else anywhere.
    public func pickup(_ random: inout SplitMix64) -> Coordinate {
        guard random.chance(hotspotShare), let total = cumulativeWeights.last else { return anywhere(&random) }
        let draw = random.unit() * total
        let hotspot = hotspots[cumulativeWeights.firstIndex { draw < $0 } ?? hotspots.count - 1]
        let center = clamped(lat: hotspot.lat, lng: hotspot.lng)
        // Uniform over the disc: the distance goes with the square root of a uniform draw.
        let distance = hotspot.radiusMeters * random.unit().squareRoot()
        let point = center.destination(bearing: Bearing(degrees: random.uniform(0...360)), distance: Meters(distance))
        return onRoads(clamped(point))
    }

    /// With roads, the road node nearest to `point` (within 2 km, else `point` itself); without, `point`.
    public func onRoads(_ point: Coordinate) -> Coordinate {
        guard let roads, let node = roads.snap(point, within: .kilometers(2)) else { return point }
        return roads.coordinates[Int(node.node)]
    }

    /// A drop-off `tripMeters` in a random direction from `pickup`, kept inside the region.
    public func dropoff(from pickup: Coordinate, tripMeters: Double, _ random: inout SplitMix64) -> Coordinate {
        // Try a few directions so trips starting near the edge keep their length; clamp as a last resort.
        for _ in 0..<8 {
            let point = pickup.destination(
                bearing: Bearing(degrees: random.uniform(0...360)),
                distance: Meters(tripMeters)
            )
            if contains(point) { return onRoads(point) }
        }
        return onRoads(
            clamped(pickup.destination(bearing: bearing(towardCenterFrom: pickup), distance: Meters(tripMeters)))
        )
    }

    public func contains(_ point: Coordinate) -> Bool {
        (region.minLat...region.maxLat).contains(point.latitude)
            && (region.minLng...region.maxLng).contains(point.longitude)
    }

    /// `point` moved onto the region's boundary when outside.
    public func clamped(_ point: Coordinate) -> Coordinate {
        clamped(lat: point.latitude, lng: point.longitude)
    }

    private func clamped(lat: Double, lng: Double) -> Coordinate {
        let latitude = min(max(lat, region.minLat), region.maxLat)
        let longitude = min(max(lng, region.minLng), region.maxLng)
        // Validated by ScenarioLoader: the region lies within ±85° and ±180°.
        return (try? Coordinate(latitude: latitude, longitude: longitude)) ?? Self.fallback
    }

    private func bearing(towardCenterFrom point: Coordinate) -> Bearing {
        point.bearing(to: clamped(lat: (region.minLat + region.maxLat) / 2, lng: (region.minLng + region.maxLng) / 2))
    }

    private static let fallback: Coordinate = {
        guard let origin = try? Coordinate(latitude: 0, longitude: 0) else { preconditionFailure("0,0 is valid") }
        return origin
    }()
}
