import Foundation

/// Kubernetes' timestamp formats: `metav1.Time` (RFC 3339, seconds) and
/// `metav1.MicroTime` (RFC 3339 with microseconds), always in UTC.
public enum KubernetesTime {
    /// `2026-11-23T08:34:26Z`
    public static func string(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// `2026-11-23T08:34:26.123456Z`
    public static func microString(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }

    /// Parses either format.
    public static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        if let d = ISO8601DateFormatter().date(from: text) { return d }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }
}
