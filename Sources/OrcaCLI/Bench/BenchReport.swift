import Foundation

/// A small plain-text report: a title, a table of latency rows, free-form lines (RSS, notes)
/// and one summary line, printed to standard output.
struct BenchReport: Sendable {
    /// The heading printed above the table.
    var title: String
    /// One row per measured operation.
    var rows: [LatencySamples] = []
    /// Extra `label: value` lines printed under the table.
    var facts: [(String, String)] = []
    /// Notes printed last, before the summary.
    var notes: [String] = []

    init(title: String) { self.title = title }

    /// Adds a table row.
    mutating func add(_ samples: LatencySamples) { rows.append(samples) }

    /// Adds a `label: value` line.
    mutating func fact(_ label: String, _ value: String) { facts.append((label, value)) }

    /// The report as text, with `summary` as its last line.
    func render(summary: String) -> String {
        var out = "\n== \(title) ==\n"
        if !rows.isEmpty {
            let header = ["operation", "n", "p50 ms", "p99 ms", "max ms", "throughput"]
            var table: [[String]] = [header]
            for r in rows {
                table.append([
                    r.name, String(r.count),
                    r.p50.map(Self.format(ms:)) ?? "-", r.p99.map(Self.format(ms:)) ?? "-",
                    r.max.map(Self.format(ms:)) ?? "-",
                    r.throughput.map { "\(Self.format(rate: $0)) \(r.unit)/s" } ?? "-",
                ])
            }
            let widths = header.indices.map { c in table.map { $0[c].count }.max() ?? 0 }
            for (i, line) in table.enumerated() {
                let cells = line.enumerated().map { c, cell in
                    c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) : Self.leftPad(cell, widths[c])
                }
                out += cells.joined(separator: "  ") + "\n"
                if i == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
            }
        }
        if !facts.isEmpty {
            let width = facts.map(\.0.count).max() ?? 0
            out += "\n"
            for (label, value) in facts { out += label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value + "\n" }
        }
        for note in notes { out += "note: \(note)\n" }
        out += "summary: \(summary)\n"
        return out
    }

    /// Prints the report.
    func print(summary: String) {
        Swift.print(render(summary: summary), terminator: "")
        fflush(nil)  // all streams: `stdout` is a C global Swift 6 will not touch
    }

    /// Milliseconds with precision that suits their size: `0.412`, `12.3`, `1234`.
    static func format(ms: Double) -> String {
        switch ms {
        case ..<10: return String(format: "%.3f", ms)
        case ..<100: return String(format: "%.2f", ms)
        case ..<1000: return String(format: "%.1f", ms)
        default: return String(format: "%.0f", ms)
        }
    }

    /// A rate with one decimal below 100, none above.
    static func format(rate: Double) -> String {
        rate < 100 ? String(format: "%.1f", rate) : String(format: "%.0f", rate)
    }

    /// Bytes as MiB with one decimal.
    static func format(bytes: Int) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    private static func leftPad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}

/// Progress lines on standard error, stamped with seconds since the first one, so the report
/// on standard output stays clean.
enum BenchLog {
    private static let start = ContinuousClock.now

    static func info(_ message: String) {
        let seconds = LatencySamples.milliseconds(start.duration(to: .now)) / 1000
        FileHandle.standardError.write(Data((String(format: "bench: [%6.1fs] ", seconds) + message + "\n").utf8))
    }
}
