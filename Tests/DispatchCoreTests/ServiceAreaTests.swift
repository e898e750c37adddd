import DispatchCore
import Geo
import Testing

@Suite("Service areas: a regional dispatcher serves its own pickups only")
struct ServiceAreaTests {
    @Test("parsing: four numbers, min below max, valid coordinates; anything else is refused")
    func parsing() throws {
        let area = try ServiceArea(parsing: " 37.42,126.76 , 37.70,127.18")
        #expect(area.minLatitude == 37.42 && area.maxLongitude == 127.18)
        for bad in [
            "", "1,2,3", "1,2,3,4,5", "a,b,c,d", "37.7,126.76,37.42,127.18", "37.42,127.18,37.7,126.76",
            "-91,0,0,1", "0,0,1,181",
        ] {
            #expect(throws: DispatchError.self, "\(bad)") { try ServiceArea(parsing: bad) }
        }
    }

    @Test("a pickup outside is refused with nothing changed; inside (edges included) is served")
    func requests() throws {
        var script = DispatchScript { $0.serviceArea = try? ServiceArea(parsing: "37.42,126.76,37.70,127.18") }
        script.driver("d1", distance: 200)
        let busan = try Coordinate(latitude: 35.1796, longitude: 129.0756)
        do {
            _ = try script.request("outsider", at: busan)
            Issue.record("a pickup in Busan was accepted by Seoul's dispatcher")
        } catch {
            #expect(error.code == .outsideServiceArea)
        }
        #expect(script.events.isEmpty)
        #expect(script.state.searchingCount == 0)
        let ride = try script.request("insider")
        #expect(ride.status == .offered)
        let corner = try Coordinate(latitude: 37.42, longitude: 126.76)
        let edge = try script.request("edge", at: corner)
        #expect(edge.riderID.rawValue == "edge")
    }
}
