/// The parts of the service's JSON the load test reads (see `openapi.yaml`).
public enum Wire {
    public struct LatLng: Codable, Sendable, Equatable {
        public var lat: Double
        public var lng: Double

        public init(lat: Double, lng: Double) {
            self.lat = lat
            self.lng = lng
        }
    }

    public struct CreateRide: Codable, Sendable {
        public var riderId: String
        public var pickup: LatLng
        public var dropoff: LatLng

        public init(riderId: String, pickup: LatLng, dropoff: LatLng) {
            self.riderId = riderId
            self.pickup = pickup
            self.dropoff = dropoff
        }
    }

    public struct Ride: Codable, Sendable {
        public var id: String
        public var status: String
        public var driverId: String?
        public var pickupDistanceMeters: Double?
        /// The accepted driver's time to the pickup, in whole seconds (by road with a road graph).
        public var etaSeconds: Int?
    }

    public struct Offer: Codable, Sendable {
        public var rideId: String
        public var pickup: LatLng
        public var dropoff: LatLng
    }

    /// A ride event, as its `data:` line carries it.
    public struct RideEvent: Codable, Sendable {
        public struct OfferTerms: Codable, Sendable {
            public var driverId: String
            public var pickupDistanceMeters: Double
            public var matching: String
            public var pickup: LatLng?
            public var dropoff: LatLng?
        }

        public var rideId: String
        public var sequence: Int
        public var type: String
        public var at: String
        public var status: String
        public var driverId: String?
        public var offer: OfferTerms?
        public var pickupDistanceMeters: Double?
    }

    /// A message on a driver's channel (the fields the load test reads).
    public struct ChannelMessage: Codable, Sendable {
        public struct Failure: Codable, Sendable {
            public var code: String
        }

        public var type: String
        public var id: String?
        public var cursor: String?
        public var event: RideEvent?
        public var status: Int?
        public var error: Failure?
    }

    public struct ErrorBody: Codable, Sendable {
        public struct Detail: Codable, Sendable {
            public var code: String
            public var message: String
        }

        public var error: Detail
    }
}
