import Foundation

/// Small line and bar charts as inline SVG, so a report needs no scripts, fonts or network.
public enum SVGChart {
    public struct Series: Sendable {
        public var name: String
        public var color: String
        public var points: [(x: Double, y: Double)]

        public init(name: String, color: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.color = color
            self.points = points
        }
    }

    static let width = 720.0
    static let height = 260.0
    static let left = 64.0
    static let right = 16.0
    static let top = 28.0
    static let bottom = 40.0

    /// A line chart. `xTicks` labels positions on the x axis (default: five even ticks).
    public static func lines(
        _ series: [Series],
        xLabel: String,
        yLabel: String,
        xTicks: [(x: Double, label: String)]? = nil,
        horizontal: (y: Double, label: String)? = nil,
        logY: Bool = false
    ) -> String {
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) } + [horizontal?.y ?? 0]
        let xMin = xs.min() ?? 0
        let xMax = max(xs.max() ?? 1, xMin + 1e-9)
        let yMax = niceCeiling(max(ys.max() ?? 1, 1e-9))
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * (width - left - right) }
        // A log scale spans whole decades from the smallest positive value to the largest.
        let decadeLow = (log10(ys.filter { $0 > 0 }.min() ?? 1)).rounded(.down)
        let decadeHigh = max((log10(max(ys.max() ?? 1, 1e-9))).rounded(.up), decadeLow + 1)
        func py(_ y: Double) -> Double {
            let share = logY ? (log10(max(y, pow(10, decadeLow))) - decadeLow) / (decadeHigh - decadeLow) : y / yMax
            return height - bottom - share * (height - top - bottom)
        }

        var svg = header()
        if logY {
            svg += axes(
                ticks: stride(from: decadeLow, through: decadeHigh, by: 1).map { pow(10, $0) },
                xLabel: xLabel,
                yLabel: yLabel,
                py: py
            )
        } else {
            svg += axes(yMax: yMax, xLabel: xLabel, yLabel: yLabel, py: py)
        }
        let ticks =
            xTicks
            ?? (0...4).map { i in
                let x = xMin + (xMax - xMin) * Double(i) / 4
                return (x, short(x))
            }
        for tick in ticks {
            svg +=
                #"<text x="\#(f(px(tick.x)))" y="\#(f(height - bottom + 16))" text-anchor="middle">"#
                + "\(escape(tick.label))</text>"
        }
        if let horizontal {
            svg +=
                #"<line x1="\#(f(left))" x2="\#(f(width - right))" y1="\#(f(py(horizontal.y)))" "#
                + #"y2="\#(f(py(horizontal.y)))" stroke="rgb(204,0,0)" stroke-dasharray="4 3"/>"#
            svg +=
                #"<text x="\#(f(width - right))" y="\#(f(py(horizontal.y) - 4))" text-anchor="end" fill="rgb(204,0,0)">"#
                + "\(escape(horizontal.label))</text>"
        }
        for line in series where !line.points.isEmpty {
            let path = line.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += #"<polyline fill="none" stroke="\#(line.color)" stroke-width="1.5" points="\#(path)"/>"#
        }
        svg += legend(series.map { ($0.name, $0.color) })
        return svg + "</svg>"
    }

    /// Grouped bars: one group per label, one bar per series value.
    public static func bars(
        groups: [String],
        series: [(name: String, color: String, values: [Double])],
        yLabel: String
    )
        -> String
    {
        let yMax = niceCeiling(max(series.flatMap(\.values).max() ?? 1, 1e-9))
        func py(_ y: Double) -> Double { height - bottom - y / yMax * (height - top - bottom) }
        var svg = header() + axes(yMax: yMax, xLabel: "", yLabel: yLabel, py: py)
        let groupWidth = (width - left - right) / Double(max(groups.count, 1))
        let barWidth = groupWidth * 0.7 / Double(max(series.count, 1))
        for (g, group) in groups.enumerated() {
            let x0 = left + Double(g) * groupWidth + groupWidth * 0.15
            for (s, bar) in series.enumerated() where g < bar.values.count {
                let x = x0 + Double(s) * barWidth
                let y = py(bar.values[g])
                svg +=
                    #"<rect x="\#(f(x))" y="\#(f(y))" width="\#(f(barWidth - 2))" "#
                    + #"height="\#(f(height - bottom - y))" fill="\#(bar.color)"/>"#
                svg +=
                    #"<text x="\#(f(x + barWidth / 2))" y="\#(f(y - 3))" text-anchor="middle">"#
                    + "\(short(bar.values[g]))</text>"
            }
            svg +=
                #"<text x="\#(f(x0 + groupWidth * 0.35))" y="\#(f(height - bottom + 16))" text-anchor="middle">"#
                + "\(escape(group))</text>"
        }
        svg += legend(series.map { ($0.name, $0.color) })
        return svg + "</svg>"
    }

    private static func header() -> String {
        #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(f(width)) \#(f(height))" "#
            + #"width="\#(f(width))" height="\#(f(height))" font-family="sans-serif" font-size="11">"#
    }

    private static func axes(yMax: Double, xLabel: String, yLabel: String, py: (Double) -> Double) -> String {
        axes(ticks: (0...4).map { yMax * Double($0) / 4 }, xLabel: xLabel, yLabel: yLabel, py: py)
    }

    private static func axes(ticks: [Double], xLabel: String, yLabel: String, py: (Double) -> Double) -> String {
        var svg = ""
        for y in ticks {
            svg +=
                #"<line x1="\#(f(left))" x2="\#(f(width - right))" y1="\#(f(py(y)))" y2="\#(f(py(y)))" "#
                + #"stroke="rgb(221,221,221)"/>"#
            svg += #"<text x="\#(f(left - 6))" y="\#(f(py(y) + 4))" text-anchor="end">\#(short(y))</text>"#
        }
        svg +=
            #"<text x="\#(f((left + width - right) / 2))" y="\#(f(height - 6))" text-anchor="middle">"#
            + "\(escape(xLabel))</text>"
        svg +=
            #"<text x="14" y="\#(f((top + height - bottom) / 2))" text-anchor="middle" "#
            + #"transform="rotate(-90 14 \#(f((top + height - bottom) / 2)))">\#(escape(yLabel))</text>"#
        return svg
    }

    private static func legend(_ entries: [(String, String)]) -> String {
        var x = left
        var svg = ""
        for (name, color) in entries {
            svg += #"<rect x="\#(f(x))" y="8" width="10" height="10" fill="\#(color)"/>"#
            svg += #"<text x="\#(f(x + 14))" y="17">\#(escape(name))</text>"#
            x += 24 + Double(name.count) * 6.5
        }
        return svg
    }

    /// The smallest of 1, 2, 2.5 or 5 times a power of ten at or above `value`.
    static func niceCeiling(_ value: Double) -> Double {
        let power = pow(10, (log10(value)).rounded(.down))
        for factor in [1.0, 2, 2.5, 5, 10] where factor * power >= value * (1 - 1e-12) {
            return factor * power
        }
        return 10 * power
    }

    static func short(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 10_000 { return String(format: "%.0fk", value / 1_000) }
        if abs(value) >= 100 { return String(format: "%.0f", value) }
        if abs(value) >= 1 { return String(format: "%.1f", value) }
        return String(format: "%.2f", value)
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
