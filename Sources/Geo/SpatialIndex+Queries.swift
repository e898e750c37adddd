extension SpatialIndex {
    /// The points nearest to a centre, within a radius.
    ///
    /// - Parameters:
    ///   - center: Where to search from.
    ///   - limit: The most points to return, at least 1.
    ///   - radius: Only points at most this far away, in [0, `maximumRadius`].
    /// - Returns: Up to `limit` points, ascending by distance; equal distances ascend by key.
    /// - Throws: `GeoError` `invalidLimit` or `invalidRadius`.
    /// - Complexity: O(points in the cells around the answer); independent of `count` for a given density.
    @inlinable
    public func nearest(to center: Coordinate, limit: Int, within radius: Meters) throws(GeoError) -> [Neighbor] {
        try Self.validate(radius: radius)
        guard limit >= 1 else { throw GeoError(.invalidLimit, "limit must be at least 1, got \(limit)") }
        let hits = storage.nearest(to: center, limit: limit, radius: radius.value) { [keys] lhs, rhs in
            keys[Int(lhs)] < keys[Int(rhs)]
        }
        return hits.map(neighbor)
    }

    /// Every point within a radius of a centre.
    ///
    /// - Parameters:
    ///   - radius: Only points at most this far away, in [0, `maximumRadius`].
    ///   - center: Where to search from.
    /// - Returns: The points, ascending by distance; equal distances ascend by key.
    /// - Throws: `GeoError` `invalidRadius`.
    /// - Complexity: O(points in the cells the circle touches + r log r) for r results.
    @inlinable
    public func all(within radius: Meters, of center: Coordinate) throws(GeoError) -> [Neighbor] {
        try Self.validate(radius: radius)
        let hits = storage.all(within: radius.value, of: center).sorted { [keys] lhs, rhs in
            lhs.distance < rhs.distance || (lhs.distance == rhs.distance && keys[Int(lhs.slot)] < keys[Int(rhs.slot)])
        }
        return hits.map(neighbor)
    }

    @inlinable
    func neighbor(_ hit: SpatialStorage.Hit) -> Neighbor {
        Neighbor(
            key: keys[Int(hit.slot)],
            coordinate: hit.coordinate,
            distance: Meters(hit.distance)
        )
    }

    @inlinable
    static func validate(radius: Meters) throws(GeoError) {
        guard radius.value.isFinite, radius >= .zero, radius <= maximumRadius else {
            throw GeoError(
                .invalidRadius,
                "radius must be a finite number of metres in [0, \(maximumRadius.value)], got \(radius.value)"
            )
        }
    }
}
