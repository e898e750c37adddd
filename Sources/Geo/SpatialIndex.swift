/// An in-memory index of moving points on the Earth, keyed by an ID, answering "which points are
/// nearest to here?" with exact great-circle distances anywhere on the globe.
///
/// ## Why a hashed grid
///
/// The workload is a fleet of drivers: every driver moves a few metres to a few hundred metres every
/// few seconds (many small writes), and dispatch asks for the k nearest within a few kilometres (small
/// reads that want only a handful of answers). The structure is a uniform grid of ~`cellSize` cells,
/// stored sparsely in a hash table of 16 × 16-cell blocks (300 m cells by default):
///
/// - **Move: O(1).** A move rewrites the point in place when it stays in its cell; otherwise it leaves a
///   hole in the old cell and fills a hole (or appends) in the new one, so no other point is touched.
///   No rebalancing, no allocation in the steady state. The key table maps each key straight to its
///   point's place, so a move costs about two or three cache misses at a million drivers.
/// - **k-nearest: O(points in the few cells around the answer).** The search starts with a circle sized
///   from the local density and doubles it until it holds k points, so its cost follows k and the local
///   density, not the query radius. Within a cell, a `Float` unit-vector chord test skips far points
///   before any trigonometry; only survivors get the exact haversine distance.
///
/// Compared with the alternatives:
/// - An **R-tree** (Tile38) streams nearest neighbours in distance order, but each move is a delete and a
///   re-insert, O(log n) with node splits and condensation, and pointer-chasing through nodes. Its
///   strength, variable-sized objects and polygons, is not needed for points.
/// - A **geohash sorted set** (Redis GEO) makes a move an O(log n) skip-list update, and `GEOSEARCH`
///   scans every member of the 9 geohash boxes that cover the whole radius and sorts them, so a
///   10-nearest query costs density × radius² whatever k is (see the Redis reference figures in
///   `docs/BENCHMARKS.md`).
///
/// A plain latitude/longitude grid would degenerate at the poles, and a naive box query would miss
/// points across the antimeridian; rows here are grouped into blocks whose column count follows the
/// cosine of latitude, and queries bound the search circle as a spherical cap, split at ±180°
/// (see `CellGrid`, `SphericalCap`).
///
/// `SpatialIndex` is a value type with no locking: the owner serialises access (one `Mutex`).
public struct SpatialIndex<Key: Hashable & Comparable & Sendable>: Sendable {
    /// A point found by a query.
    public struct Neighbor: Hashable, Sendable {
        /// The point's key.
        public let key: Key
        /// Where the point is.
        public let coordinate: Coordinate
        /// The exact great-circle distance from the query centre, equal to
        /// `center.distance(to: coordinate)`.
        public let distance: Meters

        @usableFromInline
        init(key: Key, coordinate: Coordinate, distance: Meters) {
            self.key = key
            self.coordinate = coordinate
            self.distance = distance
        }
    }

    /// The largest radius a query accepts, 100 km; dispatch searches at most tens of kilometres.
    public static var maximumRadius: Meters { .kilometers(100) }

    /// Where each key's point is stored.
    @usableFromInline var places: [Key: SpatialStorage.Place] = [:]
    /// The keys, densely; a stored point records its key's index here (its slot) for query answers.
    @usableFromInline var keys: [Key] = []
    @usableFromInline var storage: SpatialStorage

    /// Creates an empty index.
    /// - Parameter cellSize: The grid's cell edge, clamped to [10 m, 10 km]. The default of 300 m was
    ///   chosen by measurement (docs/BENCHMARKS.md): smaller cells make a 100 m move change cell more
    ///   often (a slower path), larger ones make queries in dense hotspots scan more points.
    public init(cellSize: Meters = 300) {
        storage = SpatialStorage(cellSize: min(10_000, max(10, cellSize.value)))
    }

    /// The number of points.
    @inlinable
    public var count: Int { keys.count }

    /// True when the index holds no points.
    @inlinable
    public var isEmpty: Bool { keys.isEmpty }

    /// Whether a key has a point.
    /// - Complexity: O(1).
    @inlinable
    public func contains(_ key: Key) -> Bool {
        places[key] != nil
    }

    /// The point stored for a key.
    /// - Returns: The coordinate, or nil when the key is not in the index.
    /// - Complexity: O(1).
    @inlinable
    public func position(of key: Key) -> Coordinate? {
        places[key].map { storage.coordinate(at: $0) }
    }

    /// Inserts a point, or moves it if the key is already present.
    /// - Parameters:
    ///   - key: The point's key.
    ///   - coordinate: Its new position.
    /// - Returns: True when the key was new.
    /// - Complexity: O(1) amortised.
    @inlinable
    @discardableResult
    public mutating func upsert(_ key: Key, at coordinate: Coordinate) -> Bool {
        if let place = places[key] {
            let moved = storage.move(from: place, to: coordinate)
            if moved != place { places[key] = moved }
            return false
        }
        places[key] = storage.insert(coordinate, slot: Int32(keys.count))
        keys.append(key)
        return true
    }

    /// Removes a key's point.
    /// - Parameter key: The key to remove.
    /// - Returns: The removed point's coordinate, or nil when the key was not present.
    /// - Complexity: O(1) amortised.
    @inlinable
    @discardableResult
    public mutating func remove(_ key: Key) -> Coordinate? {
        guard let place = places.removeValue(forKey: key) else { return nil }
        let coordinate = storage.coordinate(at: place)
        let slot = storage.slot(at: place)
        storage.remove(at: place)
        // Keep `keys` dense: the last key takes the freed slot, and its point records that.
        let lastKey = keys.removeLast()
        if Int(slot) < keys.count, let lastPlace = places[lastKey] {
            keys[Int(slot)] = lastKey
            storage.setSlot(slot, at: lastPlace)
        }
        return coordinate
    }

    /// Rebuilds the index with storage sized to what it holds now: its tables and cells keep the
    /// capacity of the most points they ever held (a cell that empties is likely to fill again), so
    /// after a crowd has left the owner calls this to give that memory back.
    /// - Complexity: O(n).
    public mutating func compact() {
        let points = keys.compactMap { key in position(of: key).map { (key, $0) } }
        removeAll()
        places.reserveCapacity(points.count)
        keys.reserveCapacity(points.count)
        for (key, coordinate) in points { upsert(key, at: coordinate) }
    }

    /// Removes every point.
    public mutating func removeAll() {
        places = [:]
        keys = []
        storage.removeAll()
    }
}
