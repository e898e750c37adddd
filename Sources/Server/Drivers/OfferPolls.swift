import DispatchCore
import Foundation
import NIOCore

/// The one place a polling driver app's `GET /v1/drivers/{driverId}/offer` is answered, by the route
/// or by the edge's fast path for it (`EdgeHandler`).
struct OfferPolls: Sendable {
    let dispatcher: Dispatcher
    /// Offers as published: with PostgreSQL, only committed ones are shown.
    let hub: EventHub

    /// The open offer a driver holds, as the JSON body of the answer.
    /// - Parameter rawDriverID: The driver ID from the path.
    /// - Returns: The body, or nil when the driver holds no offer (`204`).
    /// - Throws: `DispatchError` (`invalid_driver_id`, `driver_not_found`).
    func offer(rawDriverID: String) throws -> ByteBuffer? {
        let id = try DriverID(rawDriverID)
        guard dispatcher.driver(id) != nil else {
            throw DispatchError(.driverNotFound, "driver \(id) has never reported a location")
        }
        guard let offer = hub.offer(heldBy: id) else { return nil }
        return ByteBuffer(bytes: (try? JSONBody.encoder.encode(OfferResponse(offer))) ?? Data("{}".utf8))
    }
}
