import Foundation

/// Kubernetes' timestamp formats: `metav1.Time` (RFC 3339, seconds) and
/// `metav1.MicroTime` (RFC 3339 with exactly six fractional digits, Go's `RFC3339Micro`),
/// always written in UTC.
public enum KubernetesTime {
    /// `2026-11-23T08:34:26Z`
    public static func string(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// `2026-11-23T08:34:26.123456Z`
    public static func microString(_ date: Date) -> String {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded(.down)
        let seconds = (micros / 1_000_000).rounded(.down)
        let fraction = Int(micros - seconds * 1_000_000)
        let whole = string(Date(timeIntervalSince1970: seconds))
        let digits = String(fraction)
        return String(whole.dropLast()) + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    /// Parses RFC 3339 (`2026-11-23T08:34:26Z`, `…26.123456789+02:00`): any number of fractional
    /// digits (kept to the microsecond), `Z` or a numeric offset; nil for anything else.
    public static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var n = 0
            for i in range {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                n = n * 10 + Int(b[i] - 48)
            }
            return n
        }
        func at(_ i: Int, _ c: Character) -> Bool { i < b.count && b[i] == c.asciiValue! }
        guard b.count >= 20, let year = number(0..<4), at(4, "-"), let month = number(5..<7), at(7, "-"),
              let day = number(8..<10), at(10, "T") || at(10, "t"), let hour = number(11..<13), at(13, ":"),
              let minute = number(14..<16), at(16, ":"), let second = number(17..<19),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        var i = 19
        var micros = 0
        if at(i, ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if i - start < 6 { micros = micros * 10 + Int(b[i] - 48) }
                i += 1
            }
            guard i > start else { return nil }
            for _ in min(i - start, 6)..<6 { micros *= 10 }
        }
        var offset = 0
        if at(i, "Z") || at(i, "z") {
            i += 1
        } else if at(i, "+") || at(i, "-") {
            guard let oh = number(i + 1..<i + 3), at(i + 3, ":"), let om = number(i + 4..<i + 6), oh < 24, om < 60 else { return nil }
            offset = (oh * 60 + om) * 60 * (at(i, "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        var components = DateComponents()
        components.year = year
        components.month = month
        components.day = day
        components.hour = hour
        components.minute = minute
        components.second = second
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let utc = calendar.date(from: components), calendar.component(.day, from: utc) == day else { return nil }
        return Date(timeIntervalSince1970: (utc.timeIntervalSince1970 - Double(offset)).rounded() + Double(micros) / 1_000_000)
    }
}
