import DispatchCore
import Foundation
import Geo
import HummingbirdTesting
import Testing

@testable import DispatchServer

@Suite("Ranking by road ETA over HTTP, on the shipped city")
struct RoadRankingAPITests {
    /// A pickup in Monaco and two road nodes near it where the straight line and the roads disagree:
    /// `near` is nearer in a straight line, `fast` is sooner by road.
    struct Disagreement {
        let pickup: Coordinate
        let near: Coordinate
        let fast: Coordinate
        let nearSeconds: Double
        let fastSeconds: Double
    }

    static func disagreement(in graph: RoadGraph) throws -> Disagreement {
        var router = RoadRouter(graph: graph)
        for pickupNode in stride(from: 0, to: graph.nodeCount, by: 97) {
            let pickup = graph.coordinates[pickupNode]
            let around = (0..<graph.nodeCount).map { graph.coordinates[$0] }
                .filter { (200...1_500).contains(pickup.distance(to: $0).value) }
                .prefix(60)
            let places = Array(around)
            let times = router.travelTimes(from: places, to: pickup, limit: .seconds(1_200))
            for (i, near) in places.enumerated() {
                for (j, fast) in places.enumerated() where pickup.distance(to: near) < pickup.distance(to: fast) {
                    guard let nearTime = times[i], let fastTime = times[j], fastTime + .seconds(20) < nearTime else {
                        continue
                    }
                    return Disagreement(
                        pickup: pickup,
                        near: near,
                        fast: fast,
                        nearSeconds: nearTime.timeInterval,
                        fastSeconds: fastTime.timeInterval
                    )
                }
            }
        }
        throw RoadGraphError("no pickup where the roads and the straight line disagree")
    }

    @Test("the fastest driver by road is offered the ride, and the offer and the decision record say why")
    func offeredByRoad() async throws {
        let path = RoadGraphConfigurationTests.root.appendingPathComponent("roads/monaco.graph").path
        let configuration = try ServerConfiguration(
            signedArguments: ["dispatch-server"],
            environment: ["ROAD_GRAPH": path]
        )
        let graph = try #require(configuration.roads?.graph)
        let roads = try Self.disagreement(in: graph)
        try await makeTestApplication(configuration: configuration).test(.router) { client in
            for (id, place) in [("near", roads.near), ("fast", roads.fast)] {
                try await client.send(
                    .put,
                    "/v1/drivers/\(id)/location",
                    json: #"{"lat": \#(place.latitude), "lng": \#(place.longitude)}"#
                )
            }
            let body =
                #"{"riderId": "rider-1", "pickup": {"lat": \#(roads.pickup.latitude), "lng": \#(roads.pickup.longitude)}, "dropoff": {"lat": 43.7384, "lng": 7.4246}}"#
            let ride = try await client.send(.post, "/v1/rides", json: body)
            #expect(ride.status == .created)
            let rideID = try ride.json(RideJSON.self).id

            // The driver sees its offer with the road ETA.
            struct Offer: Decodable {
                let rideId: String
                let etaSeconds: Int
            }
            let offer = try await client.send(.get, "/v1/drivers/fast/offer").json(Offer.self)
            #expect(offer.rideId == rideID)
            #expect(offer.etaSeconds == Int(roads.fastSeconds.rounded(.up)))
            #expect(try await client.send(.get, "/v1/drivers/near/offer").status == .noContent)

            // Operators see both candidates, fastest first, each with its distance and road ETA.
            let decision = try await client.send(.get, "/v1/ops/rides/\(rideID)", caller: .ops("console"))
                .json(DecisionJSON.self)
            let first = try #require(decision.offers.first)
            #expect(first.ranking == "eta")
            #expect(first.rank == 1)
            #expect(first.etaSeconds == (roads.fastSeconds * 10).rounded() / 10)
            #expect(first.candidates.map(\.driverId) == ["fast", "near"])
            #expect(
                first.candidates.map(\.etaSeconds)
                    == [roads.fastSeconds, roads.nearSeconds].map { ($0 * 10).rounded() / 10 }
            )
            #expect(first.candidates[0].distanceMeters > first.candidates[1].distanceMeters)
        }
    }
}
