import Configuration
import DispatchCore
import Foundation
import Geo

/// Each part of the configuration read from its options: leadership, auth, limits and dispatch.
extension ServerConfiguration {
    mutating func readLeadership(_ values: ValueReader) throws(ConfigurationError) {
        if let region = values.string("region") {
            guard !region.isEmpty, region.utf8.count <= 63 else { throw values.error("region", "must be 1-63 bytes") }
            leadership.region = region
        }
        if let identity = values.string("leader.id"), !identity.isEmpty { leadership.identity = identity }
        if let address = values.string("advertise.address"), !address.isEmpty {
            guard StandbyForwarder.parse(address) != nil else {
                throw values.error("advertise.address", "must be host:port, got \"\(address.prefix(80))\"")
            }
            leadership.advertiseAddress = address
        }
        if let lease = try values.integer("leader.lease.seconds", in: 2...60) { leadership.lease = .seconds(lease) }
    }

    mutating func readAuth(_ values: ValueReader) throws(ConfigurationError) {
        if let mode = values.string("auth"), !mode.isEmpty {
            guard mode.lowercased() == "disabled" else {
                throw values.error("auth", "must be empty or disabled, got \"\(mode)\"")
            }
            auth.disabled = true
        }
        var secretKey = "auth.secret"
        if let secret = values.string("auth.secret", secret: true), !secret.isEmpty {
            auth.secret = secret
        }
        if let path = values.string("auth.secret.file"), !path.isEmpty {
            guard auth.secret == nil else {
                throw values.error("auth.secret.file", "cannot be given with AUTH_SECRET: choose one")
            }
            // A mounted Secret file usually ends with a newline that is not part of the secret.
            auth.secret = try values.file("auth.secret.file", path).trimmingCharacters(in: .whitespacesAndNewlines)
            secretKey = "auth.secret.file"
        }
        if let secret = auth.secret, secret.utf8.count < AuthConfiguration.minimumSecretBytes {
            throw values.error(secretKey, "must hold at least \(AuthConfiguration.minimumSecretBytes) bytes")
        }
        if let path = values.string("auth.jwks.file"), !path.isEmpty {
            auth.jwks = try values.file("auth.jwks.file", path)
        }
        if let issuer = values.string("auth.issuer"), !issuer.isEmpty { auth.issuer = issuer }
        if let audience = values.string("auth.audience"), !audience.isEmpty { auth.audience = audience }
        if let tokens = try values.integer("auth.cache.tokens", in: 2...10_000_000) { auth.cachedTokens = tokens }
        guard auth.hasKeys || auth.disabled else {
            throw ConfigurationError(
                "bearer tokens need a key: set AUTH_SECRET, AUTH_SECRET_FILE or AUTH_JWKS_FILE "
                    + "(or AUTH=disabled for a local experiment without authentication)"
            )
        }
        if auth.hasKeys, auth.disabled {
            throw values.error(
                "auth",
                "=disabled cannot be given with a key (AUTH_SECRET, AUTH_SECRET_FILE, AUTH_JWKS_FILE)"
            )
        }
    }

    mutating func readLimits(_ values: ValueReader) throws(ConfigurationError) {
        if let connections = try values.integer("max.connections", in: 16...1_000_000) {
            maximumConnections = connections
        }
        if let streams = try values.integer("max.streams", in: 1...1_000_000) { maximumStreams = streams }
        if let viewers = try values.integer("max.ops.viewers", in: 0...1_000) { maximumOpsViewers = viewers }
        if let cohorts = values.string("driver.cohorts") {
            let labels = cohorts.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            guard labels.count <= 16, labels.allSatisfy(Caller.isValidCohort),
                Set(labels).count == labels.count, !labels.contains("none"), !labels.contains("other")
            else {
                throw values.error(
                    "driver.cohorts",
                    "must be up to 16 distinct labels of a-z, 0-9, '_' or '-' (not none or other), comma-separated"
                )
            }
            driverCohorts = labels
        }
        if let drivers = try values.integer("max.drivers", in: 1...100_000_000) { dispatch.maximumDrivers = drivers }
        if let rides = try values.integer("max.open.rides", in: 1...100_000_000) { dispatch.maximumOpenRides = rides }
        if let deadline = try values.integer("command.deadline.ms", in: 100...60_000) {
            commandDeadline = .milliseconds(deadline)
        }
        if let lag = try values.integer("overload.report.lag.ms", in: 1...60_000) {
            admission.reportLagLimit = .milliseconds(lag)
        }
        if let lag = try values.integer("overload.request.lag.ms", in: 1...60_000) {
            admission.requestLagLimit = .milliseconds(lag)
        }
        if let wait = try values.integer("overload.commit.wait.ms", in: 1...60_000) {
            admission.requestCommitLimit = .milliseconds(wait)
        }
        if let waiting = try values.integer("max.waiting.commands", in: 2...1_000_000) {
            admission.maximumWaitingCommands = waiting
        }
        if let seconds = try values.integer("overload.retry.after.seconds", in: 1...3_600) {
            admission.retryAfterSeconds = seconds
        }
        if let rate = try values.integer("rate.location.per.second", in: 1...1_000_000) {
            rateLimits.locationReports.perSecond = Double(rate)
        }
        if let burst = try values.integer("rate.location.burst", in: 1...1_000_000) {
            rateLimits.locationReports.burst = burst
        }
        if let rate = try values.integer("rate.rides.per.minute", in: 1...1_000_000) {
            rateLimits.rideRequests.perSecond = Double(rate) / 60
        }
        if let burst = try values.integer("rate.rides.burst", in: 1...1_000_000) {
            rateLimits.rideRequests.burst = burst
        }
        if let rate = try values.integer("rate.requests.per.second", in: 1...1_000_000) {
            rateLimits.requests.perSecond = Double(rate)
        }
        if let burst = try values.integer("rate.requests.burst", in: 1...1_000_000) {
            rateLimits.requests.burst = burst
        }
        if let subjects = try values.integer("rate.subjects", in: 16...100_000_000) {
            rateLimits.maximumSubjects = subjects
        }
    }

    mutating func readDispatch(_ values: ValueReader) throws(ConfigurationError) {
        if let ttl = try values.integer("driver.ttl.seconds", in: 1...86_400) {
            dispatch.driverFreshness = .seconds(ttl)
            dispatch.driverForgetAfter = .seconds(ttl * 10)
        }
        // At least the TTL: a driver is forgotten only once it is out of every answer anyway.
        let ttl = Int(dispatch.driverFreshness.components.seconds)
        if values.string("driver.forget.seconds")?.isEmpty == false,
            let seconds = try values.integer("driver.forget.seconds", in: ttl...864_000)
        {
            dispatch.driverForgetAfter = .seconds(seconds)
        }
        if let age = try values.integer("location.max.age.ms", in: 0...86_400_000) {
            dispatch.locationMaximumAge = age == 0 ? nil : .milliseconds(age)
        }
        if let matching = values.string("matching") {
            guard let mode = MatchingMode(rawValue: matching.lowercased()) else {
                throw values.error("matching", "must be greedy or batch, got \"\(matching)\"")
            }
            dispatch.matching = mode
        }
        if let window = try values.integer("batch.window.ms", in: 10...60_000) {
            dispatch.batchWindow = .milliseconds(window)
        }
        if let timeout = try values.integer("offer.timeout.seconds", in: 1...3_600) {
            dispatch.offerTimeout = .seconds(timeout)
        }
        let maximum = Int(SpatialIndexLimits.maximumRadius)
        if let radius = try values.integer("search.radius.meters", in: 1...maximum) {
            dispatch.searchRadius = Meters(Double(radius))
        }
        if let radius = try values.integer("max.search.radius.meters", in: 1...maximum) {
            dispatch.maxSearchRadius = Meters(Double(radius))
        }
        guard dispatch.maxSearchRadius >= dispatch.searchRadius else {
            throw values.error(
                "max.search.radius.meters",
                "(\(Int(dispatch.maxSearchRadius.value))) must be at least SEARCH_RADIUS_METERS "
                    + "(\(Int(dispatch.searchRadius.value)))"
            )
        }
        if let step = try values.integer("search.radius.step.meters", in: 1...maximum) {
            dispatch.searchRadiusStep = Meters(Double(step))
        }
        if let interval = try values.integer("search.widen.interval.seconds", in: 1...3_600) {
            dispatch.searchWidenInterval = .seconds(interval)
        }
        if let timeout = try values.integer("search.timeout.seconds", in: 1...86_400) {
            dispatch.searchTimeout = .seconds(timeout)
        }
        if let factor = try values.integer("pickup.grace.factor", in: 1...20) {
            dispatch.pickupGraceFactor = Double(factor)
        }
        if let margin = try values.integer("pickup.grace.seconds", in: 0...86_400) {
            dispatch.pickupGraceMargin = .seconds(margin)
        }
        if let ttl = try values.integer("assigned.driver.ttl.seconds", in: 10...86_400) {
            dispatch.assignedDriverTTL = .seconds(ttl)
        }
        if let trip = try values.integer("max.trip.seconds", in: 60...604_800) {
            dispatch.maximumTripDuration = .seconds(trip)
        }
        if let area = values.string("service.area"), !area.isEmpty {
            do {
                dispatch.serviceArea = try ServiceArea(parsing: area)
            } catch {
                throw values.error(
                    "service.area",
                    "must be minLat,minLng,maxLat,maxLng with min below max, got \"\(area)\""
                )
            }
        }
        if let speed = try values.integer("city.speed.kmh", in: 1...200) {
            dispatch.citySpeedKilometersPerHour = Double(speed)
        }
        try readRoads(values)
    }

    /// The road graph (`ROAD_GRAPH`), read now so that a bad file stops the start with its reason, and
    /// the ranking: by ETA when there is a graph, by distance when there is none.
    mutating func readRoads(_ values: ValueReader) throws(ConfigurationError) {
        if let path = values.string("road.graph"), !path.isEmpty {
            do {
                roads = RoadGraphFile(path: path, graph: try RoadGraph(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw values.error("road.graph", "cannot be read from \(path): \(error)")
            }
        }
        dispatch.ranking = roads == nil ? .distance : .eta
        if let text = values.string("dispatch.ranking"), !text.isEmpty {
            guard let ranking = Ranking(rawValue: text.lowercased()) else {
                throw values.error(
                    "dispatch.ranking",
                    "must be distance, eta or eta-acceptance, got \"\(text.prefix(40))\""
                )
            }
            guard ranking != .eta || roads != nil else {
                throw values.error("dispatch.ranking", "eta needs a road graph (ROAD_GRAPH)")
            }
            dispatch.ranking = ranking
        }
        if let seconds = try values.integer("max.pickup.eta.seconds", in: 30...7_200) {
            dispatch.maximumPickupETA = .seconds(seconds)
        }
        if let prior = try values.decimal("acceptance.prior", in: 0.05...1) { dispatch.acceptance.prior = prior }
        if let weight = try values.decimal("acceptance.weight", in: 0...10) { dispatch.acceptance.weight = weight }
        if let halfLife = try values.integer("acceptance.half.life.seconds", in: 60...604_800) {
            dispatch.acceptance.halfLife = .seconds(halfLife)
        }
        if let cost = try values.integer("decline.cost.seconds", in: 0...600) {
            dispatch.acceptance.declineCost = .seconds(cost)
        }
    }
}
