import Foundation

/// A minimal SVG line chart: one series, axes with min/max labels, a title. Used for the
/// learning-rate schedule and the loss curve written into a run directory.
public struct CurvePlot {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var points: [(x: Double, y: Double)]

    public init(title: String, xLabel: String, yLabel: String, points: [(x: Double, y: Double)]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.points = points
    }

    /// The chart as SVG text (640x400).
    public func svg() -> String {
        let (w, h, left, right, top, bottom) = (640.0, 400.0, 70.0, 20.0, 40.0, 50.0)
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        let xs = finite.map(\.x), ys = finite.map(\.y)
        let x0 = xs.min() ?? 0, x1 = max(xs.max() ?? 1, x0 + 1e-12)
        let y0 = min(ys.min() ?? 0, 0), y1 = max(ys.max() ?? 1, y0 + 1e-12)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * (w - left - right) }
        func py(_ y: Double) -> Double { h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom) }
        let path = finite.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
        func fmt(_ v: Double) -> String { abs(v) < 1e-3 && v != 0 ? String(format: "%.1e", v) : String(format: "%.4g", v) }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(w / 2)" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>
        <line x1="\(left)" y1="\(h - bottom)" x2="\(w - right)" y2="\(h - bottom)" stroke="black"/>
        <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(h - bottom)" stroke="black"/>
        <text x="\(left)" y="\(h - bottom + 16)" text-anchor="middle">\(fmt(x0))</text>
        <text x="\(w - right)" y="\(h - bottom + 16)" text-anchor="middle">\(fmt(x1))</text>
        <text x="\(left - 6)" y="\(h - bottom)" text-anchor="end">\(fmt(y0))</text>
        <text x="\(left - 6)" y="\(top + 4)" text-anchor="end">\(fmt(y1))</text>
        <text x="\((left + w - right) / 2)" y="\(h - 12)" text-anchor="middle">\(escape(xLabel))</text>
        <text x="16" y="\((top + h - bottom) / 2)" text-anchor="middle" transform="rotate(-90 16 \((top + h - bottom) / 2))">\(escape(yLabel))</text>
        <polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="\(path)"/>
        </svg>

        """
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
