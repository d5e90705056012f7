/// Arithmetic on values that come from users (quantities, counts, seconds), which must never
/// trap on overflow: results clamp to the type's range instead.
extension FixedWidthInteger {
    /// `self + other`, clamped to `min...max`.
    public func addingSaturating(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    /// `self - other`, clamped to `min...max`.
    public func subtractingSaturating(_ other: Self) -> Self {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other > 0 ? .min : .max
    }

    /// `self * other`, clamped to `min...max`.
    public func multipliedSaturating(by other: Self) -> Self {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }
}

extension Sequence where Element: FixedWidthInteger {
    /// The sum of the elements, clamped to the element type's range.
    public func saturatingSum() -> Element {
        reduce(0) { $0.addingSaturating($1) }
    }
}

extension Duration {
    /// `seconds` as a duration, clamped to 0…100 years: user-given seconds (grace periods,
    /// probe timeouts) can be anything an `Int64` holds, and `Duration` arithmetic traps.
    public static func seconds(clamping seconds: Int64) -> Duration {
        .seconds(min(max(seconds, 0), 100 * 365 * 86_400))
    }

    /// `seconds` as a duration, clamped to 0…100 years; NaN is 0.
    public static func seconds(clamping seconds: Double) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .seconds(min(seconds, 100 * 365 * 86_400))
    }
}
