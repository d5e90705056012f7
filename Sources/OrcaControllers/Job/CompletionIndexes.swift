import Foundation

/// A set of completion indexes of an Indexed job as ordered, disjoint, non-adjacent
/// intervals (the job controller's `orderedIntervals`), written as Kubernetes writes
/// `status.completedIndexes`: `"1,3-5,7,8"` (two adjacent indexes are listed, not ranged).
struct CompletionIndexes: Equatable, Sendable, CustomStringConvertible {
    struct Interval: Equatable, Sendable {
        var first: Int
        var last: Int
    }

    private(set) var intervals: [Interval] = []

    init() {}

    /// Parses `text` (`"1,3-5"`), keeping indexes below `completions`; malformed parts are
    /// skipped (`parseIndexesFromString`).
    init(parsing text: String?, completions: Int) {
        guard let text, !text.isEmpty else { return }
        var indexes: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard let first = Int(bounds[0]), first >= 0, first < completions else { continue }
            var last = first
            if bounds.count == 2 {
                guard let l = Int(bounds[1]), l >= first else { continue }
                last = min(l, completions - 1)
            } else if bounds.count > 2 {
                continue
            }
            indexes.append(contentsOf: first...last)
        }
        self = CompletionIndexes().adding(indexes)
    }

    /// These indexes plus `indexes` (`withOrderedIndexes`).
    func adding(_ indexes: [Int]) -> CompletionIndexes {
        var all = intervals.flatMap { Array($0.first...$0.last) }
        all.append(contentsOf: indexes)
        var result = CompletionIndexes()
        for ix in Set(all).sorted() {
            if let last = result.intervals.last, last.last + 1 == ix {
                result.intervals[result.intervals.count - 1].last = ix
            } else {
                result.intervals.append(Interval(first: ix, last: ix))
            }
        }
        return result
    }

    /// How many indexes.
    var total: Int { intervals.reduce(0) { $0 + $1.last - $1.first + 1 } }

    /// Whether `index` is in the set.
    func contains(_ index: Int) -> Bool {
        intervals.contains { $0.first <= index && index <= $0.last }
    }

    var description: String {
        intervals.map { v in
            if v.last == v.first { return "\(v.first)" }
            return "\(v.first)\(v.last == v.first + 1 ? "," : "-")\(v.last)"
        }.joined(separator: ",")
    }
}
