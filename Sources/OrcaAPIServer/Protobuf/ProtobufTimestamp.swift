/// Formats a protobuf `Timestamp` as Kubernetes writes times in JSON: RFC 3339 in UTC.
enum ProtobufTimestamp {
    /// `time.Time{}.Unix()`: 0001-01-01T00:00:00Z.
    static let goZeroTimeSeconds: Int64 = -62_135_596_800

    /// 9999-12-31T23:59:59Z, the last time RFC 3339 can write.
    static let maxSeconds: Int64 = 253_402_300_799

    /// `2006-01-02T15:04:05Z` (meta/v1 Time), or `2006-01-02T15:04:05.000000Z` (MicroTime).
    /// Seconds outside 0001-01-01…9999-12-31 (which Kubernetes refuses too) are clamped to it.
    static func format(seconds: Int64, nanos: Int64, microseconds: Bool) -> String {
        var seconds = min(max(seconds, goZeroTimeSeconds), maxSeconds)
        var nanos = nanos
        if nanos < 0 || nanos >= 1_000_000_000 {
            seconds = min(max(seconds + nanos.floorDivided(by: 1_000_000_000), goZeroTimeSeconds), maxSeconds)
            nanos = (nanos % 1_000_000_000 + 1_000_000_000) % 1_000_000_000
        }
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
        text += "\(pad(secondOfDay / 3_600, 2)):\(pad(secondOfDay % 3_600 / 60, 2)):\(pad(secondOfDay % 60, 2))"
        if microseconds { text += ".\(pad(nanos / 1_000, 6))" }
        return text + "Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value.magnitude)
        let padded = String(repeating: "0", count: max(0, width - digits.count)) + digits
        return value < 0 ? "-" + padded : padded
    }
}

extension Int64 {
    /// Division rounding toward negative infinity.
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
