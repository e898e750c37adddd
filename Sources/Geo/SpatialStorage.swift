#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The non-generic engine behind `SpatialIndex`: points grouped into grid cells, each point addressed
/// by its `Place` (bucket and position), which never changes while the point stays in its cell.
///
/// Keeping this part free of the key type lets it be compiled and optimised once in this module;
/// `SpatialIndex` maps keys to places.
///
/// Layout, designed so that a move touches as few cache lines as possible:
/// - `buckets[b].members` holds the points of one non-empty cell, each with its exact coordinate, a
///   `Float` unit vector for a cheap distance pre-filter, and its *slot* (the index of its key in
///   `SpatialIndex.keys`). A scan reads one contiguous array per cell.
/// - A point leaving a cell leaves a *hole* (a member whose vector is NaN, so every distance test
///   fails, linked into the bucket's hole list), which the next arrival reuses. Nothing else moves, so
///   no other point's place has to be updated: a move within a cell writes one member, a move across
///   cells writes one hole and fills one slot.
/// - `blockTable` maps a block of 16 × 16 cells to its index; `blockCells` holds each block's 256
///   bucket indices (-1 for an empty cell). Empty buckets and blocks are recycled through free lists,
///   so memory follows the live points, not every place a point has ever been.
@usableFromInline
struct SpatialStorage: Sendable {
    /// Where a point is: `buckets[bucket].members[position]`.
    @usableFromInline
    struct Place: Hashable, Sendable {
        @usableFromInline var bucket: Int32
        @usableFromInline var position: Int32

        init(bucket: Int32, position: Int32) {
            self.bucket = bucket
            self.position = position
        }
    }

    struct Member: Sendable {
        var latitude: Double
        var longitude: Double
        var x: Float
        var y: Float
        var z: Float
        /// The key's slot when >= 0. In a hole, `-2 - next`, where `next` is the next hole (-1: none).
        var slot: Int32

        var isHole: Bool { slot < 0 }

        static func hole(next: Int32) -> Member {
            Member(latitude: .nan, longitude: .nan, x: .nan, y: .nan, z: .nan, slot: -2 - next)
        }

        var nextHole: Int32 { -2 - slot }
    }

    struct Bucket: Sendable {
        var cell: Cell
        var members: [Member] = []
        /// Members that are points, not holes.
        var live: Int32 = 0
        /// The first hole, or -1.
        var firstHole: Int32 = -1
    }

    let grid: CellGrid
    private(set) var buckets: [Bucket] = []
    private(set) var freeBuckets: [Int32] = []
    private(set) var blockTable: [UInt64: Int32] = [:]
    private(set) var blockCells: [Int32] = []
    private(set) var blockOccupancy: [Int32] = []
    private(set) var freeBlocks: [Int32] = []

    @usableFromInline
    init(cellSize: Double) {
        grid = CellGrid(cellSize: cellSize)
    }

    // MARK: Mutation

    /// Stores a new point.
    /// - Returns: Where it was stored.
    @usableFromInline
    mutating func insert(_ coordinate: Coordinate, slot: Int32) -> Place {
        let cell = grid.cell(latitude: coordinate.latitude, longitude: coordinate.longitude)
        return store(Self.member(coordinate, slot: slot), in: bucketIndex(creating: cell))
    }

    /// Moves a point. It keeps its place when it stays in its cell.
    /// - Returns: The point's new place.
    @usableFromInline
    mutating func move(from place: Place, to coordinate: Coordinate) -> Place {
        let cell = grid.cell(latitude: coordinate.latitude, longitude: coordinate.longitude)
        let bucket = Int(place.bucket)
        let slot = buckets[bucket].members[Int(place.position)].slot
        let member = Self.member(coordinate, slot: slot)
        if buckets[bucket].cell == cell {
            buckets[bucket].members[Int(place.position)] = member
            return place
        }
        vacate(place)
        return store(member, in: bucketIndex(creating: cell))
    }

    /// Removes the point at a place.
    @usableFromInline
    mutating func remove(at place: Place) {
        vacate(place)
    }

    /// Removes every point, keeping the grid geometry.
    @usableFromInline
    mutating func removeAll() {
        self = SpatialStorage(cellSize: grid.cellSize)
    }

    /// Changes the slot recorded for the point at a place (its key moved in `SpatialIndex.keys`).
    @usableFromInline
    mutating func setSlot(_ slot: Int32, at place: Place) {
        buckets[Int(place.bucket)].members[Int(place.position)].slot = slot
    }

    /// The slot of the point at a place.
    @usableFromInline
    func slot(at place: Place) -> Int32 {
        buckets[Int(place.bucket)].members[Int(place.position)].slot
    }

    /// The coordinate of the point at a place.
    @usableFromInline
    func coordinate(at place: Place) -> Coordinate {
        let member = buckets[Int(place.bucket)].members[Int(place.position)]
        return Coordinate(uncheckedLatitude: member.latitude, longitude: member.longitude)
    }

    /// Puts a member into a bucket, in its first hole or at the end.
    private mutating func store(_ member: Member, in bucket: Int32) -> Place {
        let index = Int(bucket)
        buckets[index].live += 1
        let hole = buckets[index].firstHole
        if hole >= 0 {
            buckets[index].firstHole = buckets[index].members[Int(hole)].nextHole
            buckets[index].members[Int(hole)] = member
            return Place(bucket: bucket, position: hole)
        }
        buckets[index].members.append(member)
        return Place(bucket: bucket, position: Int32(buckets[index].members.count - 1))
    }

    /// Turns a point into a hole, recycling the bucket when it has no points left.
    private mutating func vacate(_ place: Place) {
        let bucket = Int(place.bucket)
        buckets[bucket].members[Int(place.position)] = .hole(next: buckets[bucket].firstHole)
        buckets[bucket].firstHole = place.position
        buckets[bucket].live -= 1
        if buckets[bucket].live == 0 {
            releaseBucket(bucket)
        }
    }

    /// The bucket of a cell, creating the bucket (and its block) when the cell is empty.
    private mutating func bucketIndex(creating cell: Cell) -> Int32 {
        let key = CellGrid.blockKey(row: cell.row, column: cell.column)
        let block: Int
        if let existing = blockTable[key] {
            block = Int(existing)
        } else {
            block = allocateBlock()
            blockTable[key] = Int32(block)
        }
        let offset = block * CellGrid.cellsPerBlock + CellGrid.offsetInBlock(row: cell.row, column: cell.column)
        let existing = blockCells[offset]
        if existing >= 0 { return existing }
        let bucket: Int32
        if let free = freeBuckets.popLast() {
            bucket = free
            buckets[Int(bucket)].cell = cell
        } else {
            bucket = Int32(buckets.count)
            buckets.append(Bucket(cell: cell))
        }
        blockCells[offset] = bucket
        blockOccupancy[block] += 1
        return bucket
    }

    private mutating func allocateBlock() -> Int {
        if let free = freeBlocks.popLast() { return Int(free) }
        blockCells.append(contentsOf: repeatElement(-1, count: CellGrid.cellsPerBlock))
        blockOccupancy.append(0)
        return blockOccupancy.count - 1
    }

    private mutating func releaseBucket(_ bucket: Int) {
        // Keep the array's capacity: a cell that empties is likely to fill again.
        buckets[bucket].members.removeAll(keepingCapacity: true)
        buckets[bucket].firstHole = -1
        let cell = buckets[bucket].cell
        let key = CellGrid.blockKey(row: cell.row, column: cell.column)
        guard let block = blockTable[key].map(Int.init) else {
            preconditionFailure("bucket \(bucket) has no block")
        }
        blockCells[block * CellGrid.cellsPerBlock + CellGrid.offsetInBlock(row: cell.row, column: cell.column)] = -1
        freeBuckets.append(Int32(bucket))
        blockOccupancy[block] -= 1
        if blockOccupancy[block] == 0 {
            blockTable[key] = nil
            freeBlocks.append(Int32(block))
        }
    }

    static func member(_ coordinate: Coordinate, slot: Int32) -> Member {
        let latitude = coordinate.latitude * SphericalMath.radiansPerDegree
        let longitude = coordinate.longitude * SphericalMath.radiansPerDegree
        let cosLatitude = cos(latitude)
        return Member(
            latitude: coordinate.latitude,
            longitude: coordinate.longitude,
            x: Float(cosLatitude * cos(longitude)),
            y: Float(cosLatitude * sin(longitude)),
            z: Float(sin(latitude)),
            slot: slot
        )
    }
}
