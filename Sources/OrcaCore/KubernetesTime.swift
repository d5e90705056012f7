import Foundation

/// Kubernetes' timestamp formats: `metav1.Time` (RFC 3339, seconds) and
/// `metav1.MicroTime` (RFC 3339 with exactly six fractional digits, Go's `RFC3339Micro`),
/// always written in UTC. Formatting and parsing are plain arithmetic on the proleptic
/// Gregorian calendar: every write stamps several times, and Foundation's formatters and
/// calendars (ICU underneath) cost an allocation-heavy setup on each call.
public enum KubernetesTime {
    /// `2026-11-23T08:34:26Z` (fractional seconds dropped, as Go's `RFC3339` does).
    public static func string(_ date: Date) -> String {
        format(seconds: Int(secondsSinceEpoch(date).rounded(.down)), micros: nil)
    }

    /// `2026-11-23T08:34:26.123456Z`: to the nearest microsecond, since a `Date` (a `Double`)
    /// read from `…26.000122Z` may hold a hair less than 122 µs.
    public static func microString(_ date: Date) -> String {
        let micros = Int((secondsSinceEpoch(date) * 1_000_000).rounded())
        let (seconds, fraction) = micros.quotientAndRemainder(dividingBy: 1_000_000)
        return fraction < 0 ? format(seconds: seconds - 1, micros: fraction + 1_000_000) : format(seconds: seconds, micros: fraction)
    }

    /// `date`'s seconds since the epoch, within what RFC 3339 can write (NaN as the epoch), so
    /// converting them to an integer cannot trap.
    static func secondsSinceEpoch(_ date: Date) -> Double {
        let t = date.timeIntervalSince1970
        return t.isNaN ? 0 : min(max(t, Double(goZeroTimeSeconds)), Double(maxSeconds) + 0.999_999)
    }

    /// Go's zero time, 0001-01-01T00:00:00Z, in seconds since the epoch.
    public static let goZeroTimeSeconds = -62_135_596_800

    /// 9999-12-31T23:59:59Z, the last time RFC 3339 can write.
    public static let maxSeconds = 253_402_300_799

    /// `seconds` since the epoch (plus `micros`, 0–999999, when given; kept to that range) as
    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`; seconds outside 0001-01-01…9999-12-31 (which Kubernetes
    /// refuses too) are clamped to it.
    public static func format(seconds: Int, micros: Int?) -> String {
        let seconds = min(max(seconds, goZeroTimeSeconds), maxSeconds)
        var (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        if secondOfDay < 0 { days -= 1; secondOfDay += 86_400 }
        let (year, month, day) = civil(days: days)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        func append(_ value: Int, digits: Int) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            var v = value
            while divisor > 0 {
                bytes.append(UInt8(48 + abs(v / divisor % 10)))
                v %= divisor
                divisor /= 10
            }
        }
        append(year, digits: 4); bytes.append(45)
        append(month, digits: 2); bytes.append(45)
        append(day, digits: 2); bytes.append(84)
        append(secondOfDay / 3600, digits: 2); bytes.append(58)
        append(secondOfDay / 60 % 60, digits: 2); bytes.append(58)
        append(secondOfDay % 60, digits: 2)
        if let micros { bytes.append(46); append(min(max(micros, 0), 999_999), digits: 6) }
        bytes.append(90)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's `days_from_civil`).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The Gregorian date of a day count since 1970-01-01 (`civil_from_days`).
    static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The number of days in `month` of `year`.
    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
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
        guard i == b.count, day <= daysInMonth(year: year, month: month) else { return nil }
        let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }
}
