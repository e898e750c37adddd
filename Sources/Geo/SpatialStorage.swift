#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The non-generic engine behind `SpatialIndex`: points stored by *slot* (a dense integer), grouped
/// into grid cells.
///
/// Keeping this part free of the key type lets it be compiled and optimised once in this module;
/// `SpatialIndex` only maps keys to slots.
///
/// Layout:
/// - `buckets[b].members` holds the points of one non-empty cell, each with its exact coordinate and a
///   `Float` unit vector for a cheap distance pre-filter. A scan reads one contiguous array per cell.
/// - `places[s]` says where slot `s` lives (bucket and position, side by side so a move costs one
///   cache miss for it), so a move or removal touches its member directly (O(1), no search).
/// - `blockTable` maps a block of 16 × 16 cells to its index; `blockCells` holds each block's 256
///   bucket indices (-1 for an empty cell). Empty buckets and blocks are recycled through free lists,
///   so memory follows the live points, not every place a point has ever been.
@usableFromInline
struct SpatialStorage: Sendable {
    struct Member: Sendable {
        var latitude: Double
        var longitude: Double
        var x: Float
        var y: Float
        var z: Float
        var slot: Int32
    }

    /// Where a slot's member is: `buckets[bucket].members[position]`.
    struct Place: Sendable {
        var bucket: Int32
        var position: Int32
    }

    struct Bucket: Sendable {
        var cell: Cell
        var members: [Member]
    }

    let grid: CellGrid
    private(set) var places: [Place] = []
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

    /// The number of points stored.
    @usableFromInline
    var count: Int { places.count }

    // MARK: Mutation

    /// Stores a new point in the next slot.
    /// - Returns: The slot, equal to the previous `count`.
    @usableFromInline
    mutating func append(_ coordinate: Coordinate) -> Int32 {
        let slot = Int32(places.count)
        let member = Self.member(coordinate, slot: slot)
        let bucket = bucketIndex(creating: grid.cell(latitude: coordinate.latitude, longitude: coordinate.longitude))
        places.append(Place(bucket: bucket, position: Int32(buckets[Int(bucket)].members.count)))
        buckets[Int(bucket)].members.append(member)
        return slot
    }

    /// Moves the point in a slot. Stays in place when the cell does not change.
    @usableFromInline
    mutating func move(slot: Int32, to coordinate: Coordinate) {
        let member = Self.member(coordinate, slot: slot)
        let cell = grid.cell(latitude: coordinate.latitude, longitude: coordinate.longitude)
        let place = places[Int(slot)]
        if buckets[Int(place.bucket)].cell == cell {
            buckets[Int(place.bucket)].members[Int(place.position)] = member
            return
        }
        detach(slot: slot)
        let bucket = bucketIndex(creating: cell)
        places[Int(slot)] = Place(bucket: bucket, position: Int32(buckets[Int(bucket)].members.count))
        buckets[Int(bucket)].members.append(member)
    }

    /// Removes the point in a slot; the last slot moves into its place.
    /// - Returns: The slot that was moved into `slot`, or nil when `slot` was the last one.
    @usableFromInline
    mutating func remove(slot: Int32) -> Int32? {
        detach(slot: slot)
        let last = Int32(places.count - 1)
        defer { places.removeLast() }
        guard slot != last else { return nil }
        let place = places[Int(last)]
        places[Int(slot)] = place
        buckets[Int(place.bucket)].members[Int(place.position)].slot = slot
        return last
    }

    /// Removes every point, keeping the grid geometry.
    @usableFromInline
    mutating func removeAll() {
        self = SpatialStorage(cellSize: grid.cellSize)
    }

    /// The coordinate stored in a slot.
    @usableFromInline
    func coordinate(slot: Int32) -> Coordinate {
        let place = places[Int(slot)]
        let member = buckets[Int(place.bucket)].members[Int(place.position)]
        return Coordinate(uncheckedLatitude: member.latitude, longitude: member.longitude)
    }

    /// Takes a slot's member out of its bucket (swap-remove), recycling the bucket when it empties.
    /// The slot's own bookkeeping is left for the caller to overwrite.
    private mutating func detach(slot: Int32) {
        let bucket = Int(places[Int(slot)].bucket)
        let position = Int(places[Int(slot)].position)
        let lastPosition = buckets[bucket].members.count - 1
        if position != lastPosition {
            let moved = buckets[bucket].members[lastPosition]
            buckets[bucket].members[position] = moved
            places[Int(moved.slot)].position = Int32(position)
        }
        buckets[bucket].members.removeLast()
        if buckets[bucket].members.isEmpty {
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
            buckets.append(Bucket(cell: cell, members: []))
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
