#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One cell of the grid: a latitude row and a longitude column within that row's block.
struct Cell: Hashable, Sendable {
    var row: Int32
    var column: Int32
}

/// The geometry of `SpatialIndex`'s grid: near-square cells of roughly `cellSize` metres on a side,
/// anywhere on Earth.
///
/// Rows are bands of equal latitude height. A plain latitude/longitude grid would make cells
/// ever narrower towards the poles (a 100 m cell is 10 cm wide at 89.999°), so rows are grouped
/// into *row blocks* of `blockSide` rows, and each row block gets its own number of columns,
/// chosen so a cell is about `cellSize` wide at the block's equator-side edge. Cells are in turn
/// grouped into blocks of `blockSide` × `blockSide` cells, the unit stored in the hash table, so a
/// query looks up one block per 16 × 16 cells instead of one hash per cell.
struct CellGrid: Sendable {
    /// Cells per block side; a power of two so block and in-block indices are shifts and masks.
    static let blockShift: Int32 = 4
    static let blockSide: Int32 = 1 << blockShift
    static let cellsPerBlock = Int(blockSide * blockSide)

    /// The nominal cell edge in metres.
    let cellSize: Double
    /// The height of a row in radians of latitude.
    let rowHeight: Double
    /// Number of rows from the south pole to the north pole.
    let rowCount: Int32
    /// The number of columns in each row block, indexed by row block.
    private let columnsByRowBlock: [Int32]

    /// Creates the grid geometry.
    /// - Parameter cellSize: The nominal cell edge in metres, at least 1.
    init(cellSize: Double) {
        self.cellSize = cellSize
        let rowHeight = cellSize / Earth.meanRadius.value
        self.rowHeight = rowHeight
        let rowCount = Int32((Double.pi / rowHeight).rounded(.up))
        self.rowCount = rowCount
        let rowBlockCount = (rowCount + Self.blockSide - 1) >> Self.blockShift
        self.columnsByRowBlock = (0..<rowBlockCount).map { rowBlock in
            let southEdge = -Double.pi / 2 + Double(rowBlock << Self.blockShift) * rowHeight
            let northEdge = min(Double.pi / 2, southEdge + Double(Self.blockSide) * rowHeight)
            let equatorSideLatitude = southEdge <= 0 && northEdge >= 0 ? 0 : min(abs(southEdge), abs(northEdge))
            let columns = (2 * Double.pi * cos(equatorSideLatitude) / rowHeight).rounded(.down)
            return Int32(max(1, columns))
        }
    }

    /// The row containing a latitude.
    /// - Parameter latitude: Radians in [-π/2, π/2].
    @inline(__always)
    func row(latitude: Double) -> Int32 {
        let row = Int32(((latitude + Double.pi / 2) / rowHeight).rounded(.down))
        return min(rowCount - 1, max(0, row))
    }

    /// The number of columns in a row block.
    @inline(__always)
    func columns(rowBlock: Int32) -> Int32 {
        columnsByRowBlock[Int(rowBlock)]
    }

    /// The column containing a longitude, given the row block's column count.
    /// - Parameters:
    ///   - longitude: Radians in [-π, π].
    ///   - columns: The row block's column count.
    @inline(__always)
    func column(longitude: Double, columns: Int32) -> Int32 {
        let column = Int32(((longitude + Double.pi) / (2 * Double.pi) * Double(columns)).rounded(.down))
        return min(columns - 1, max(0, column))
    }

    /// The cell containing a coordinate.
    @inline(__always)
    func cell(latitude: Double, longitude: Double) -> Cell {
        let row = row(latitude: latitude * SphericalMath.radiansPerDegree)
        let columns = columns(rowBlock: row >> Self.blockShift)
        return Cell(row: row, column: column(longitude: longitude * SphericalMath.radiansPerDegree, columns: columns))
    }

    /// The hash-table key of the block holding a cell.
    @inline(__always)
    static func blockKey(row: Int32, column: Int32) -> UInt64 {
        UInt64(UInt32(row >> blockShift)) << 32 | UInt64(UInt32(column >> blockShift))
    }

    /// The cell's position inside its block, in [0, cellsPerBlock).
    @inline(__always)
    static func offsetInBlock(row: Int32, column: Int32) -> Int {
        Int((row & (blockSide - 1)) << blockShift | (column & (blockSide - 1)))
    }
}
