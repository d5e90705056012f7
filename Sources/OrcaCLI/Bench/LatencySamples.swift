import Foundation

/// Latency samples of one benchmarked operation, with percentiles taken from the sorted samples
/// (nearest-rank), and the wall time over which they were taken for a throughput figure.
struct LatencySamples: Sendable {
    /// What was measured, as printed in the first column of a report.
    var name: String
    /// The samples in milliseconds, in the order they were recorded.
    private(set) var milliseconds: [Double] = []
    /// The wall time the whole run took (first start to last completion), when known.
    var elapsed: Duration?
    /// How many units of work one sample stands for (e.g. 1,000 objects per list), for throughput.
    var unitsPerSample: Int = 1
    /// The unit throughput is counted in ("req", "obj", "pod").
    var unit: String = "req"

    init(name: String, unit: String = "req", unitsPerSample: Int = 1) {
        self.name = name
        self.unit = unit
        self.unitsPerSample = unitsPerSample
    }

    /// Records one sample.
    mutating func record(_ duration: Duration) {
        milliseconds.append(Self.milliseconds(duration))
    }

    /// Records one sample given in milliseconds.
    mutating func record(milliseconds value: Double) {
        milliseconds.append(value)
    }

    /// Appends every sample of `other`.
    mutating func append(contentsOf other: LatencySamples) {
        milliseconds.append(contentsOf: other.milliseconds)
    }

    var count: Int { milliseconds.count }
    var isEmpty: Bool { milliseconds.isEmpty }

    /// The `p`-th percentile (0...100) in milliseconds by nearest rank; nil without samples.
    func percentile(_ p: Double) -> Double? {
        guard !milliseconds.isEmpty else { return nil }
        let sorted = milliseconds.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[Swift.min(Swift.max(rank - 1, 0), sorted.count - 1)]
    }

    var p50: Double? { percentile(50) }
    var p99: Double? { percentile(99) }
    var max: Double? { milliseconds.max() }
    var mean: Double? { milliseconds.isEmpty ? nil : milliseconds.reduce(0, +) / Double(milliseconds.count) }

    /// Units of work per second over `elapsed`; nil when the elapsed time is unknown.
    var throughput: Double? {
        guard let elapsed else { return nil }
        let seconds = Self.milliseconds(elapsed) / 1000
        guard seconds > 0 else { return nil }
        return Double(count * unitsPerSample) / seconds
    }

    /// A duration in (fractional) milliseconds.
    static func milliseconds(_ d: Duration) -> Double {
        let (seconds, attoseconds) = d.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}

extension LatencySamples {
    /// `p50 1.23 ms, p99 4.56 ms`, or `no samples`.
    var summary: String {
        guard let p50, let p99 else { return "\(name): no samples" }
        return "\(name) p50 \(BenchReport.format(ms: p50)) ms, p99 \(BenchReport.format(ms: p99)) ms"
    }
}
