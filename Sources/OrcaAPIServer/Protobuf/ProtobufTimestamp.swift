import OrcaCore

/// Formats a protobuf `Timestamp` as Kubernetes writes times in JSON: RFC 3339 in UTC.
enum ProtobufTimestamp {
    /// `2006-01-02T15:04:05Z` (meta/v1 Time), or `2006-01-02T15:04:05.000000Z` (MicroTime).
    /// Seconds outside 0001-01-01…9999-12-31 (which Kubernetes refuses too) are clamped to it.
    static func format(seconds: Int64, nanos: Int64, microseconds: Bool) -> String {
        var seconds = clamped(seconds)
        var nanos = nanos
        if nanos < 0 || nanos >= 1_000_000_000 {
            seconds += nanos.floorDivided(by: 1_000_000_000)
            nanos = (nanos % 1_000_000_000 + 1_000_000_000) % 1_000_000_000
        }
        return KubernetesTime.format(seconds: Int(seconds), micros: microseconds ? Int(nanos / 1_000) : nil)
    }

    /// `seconds` within 0001-01-01…9999-12-31, so the carry of nanos cannot overflow (the
    /// result is clamped again by `KubernetesTime.format`).
    private static func clamped(_ seconds: Int64) -> Int64 {
        min(max(seconds, Int64(KubernetesTime.goZeroTimeSeconds)), Int64(KubernetesTime.maxSeconds))
    }
}

extension Int64 {
    /// Division rounding toward negative infinity.
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
