import Foundation
import OrcaCore
import Testing

/// `KubernetesTime` formats and parses by arithmetic; Foundation's ISO 8601 formatter is the
/// reference it must agree with.
@Suite struct KubernetesTimeTests {
    let reference: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f
    }()

    /// Leap days, century years, the epoch, before it, month and year ends, and a spread of
    /// seconds over four centuries.
    static let instants: [TimeInterval] = {
        var t: [TimeInterval] = [0, -1, 59, 86_399, 86_400, 951_782_400, 951_868_799, 4_107_542_400, -2_208_988_800,
                                 1_709_164_800, 1_735_689_599, 1_735_689_600, 253_402_300_799]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 { t.append(TimeInterval(Int64.random(in: -6_000_000_000...10_000_000_000, using: &rng))) }
        return t
    }()

    @Test func stringAgreesWithFoundation() {
        for t in Self.instants {
            let date = Date(timeIntervalSince1970: t)
            #expect(KubernetesTime.string(date) == reference.string(from: date), "\(t)")
            #expect(KubernetesTime.string(date.addingTimeInterval(0.75)) == reference.string(from: date), "fraction dropped at \(t)")
        }
    }

    @Test func dateReadsWhatStringWrites() {
        for t in Self.instants {
            let date = Date(timeIntervalSince1970: t)
            #expect(KubernetesTime.date(KubernetesTime.string(date)) == date, "\(t)")
            let micro = Date(timeIntervalSince1970: t + 0.000_123)
            #expect(KubernetesTime.date(KubernetesTime.microString(micro)).map(KubernetesTime.microString) == KubernetesTime.microString(micro))
        }
    }

    /// Go's calendar is Gregorian all the way back (Foundation's turns Julian before 1582):
    /// Go's zero time is `0001-01-01T00:00:00Z`.
    @Test func theCalendarIsProlepticGregorian() {
        let zero = Date(timeIntervalSince1970: -62_135_596_800)
        #expect(KubernetesTime.string(zero) == "0001-01-01T00:00:00Z")
        #expect(KubernetesTime.date("0001-01-01T00:00:00Z") == zero)
    }

    /// A `Date` read from `…000122Z` may hold a hair less than 122 µs; it is written back the same.
    @Test func microsecondsSurviveTheDouble() {
        for t in [69_834_263, -69_834_263, 1_765_068_300, 7_000_000_000] {
            for micros in [1, 121, 122, 123, 500_000, 999_999] {
                let text = KubernetesTime.format(seconds: t, micros: micros)
                #expect(KubernetesTime.date(text).map(KubernetesTime.microString) == text)
            }
        }
    }

    @Test func outOfRangeDatesAreClampedNotTrapped() {
        #expect(KubernetesTime.string(Date(timeIntervalSince1970: .infinity)) == "9999-12-31T23:59:59Z")
        #expect(KubernetesTime.string(Date(timeIntervalSince1970: -.infinity)) == "0001-01-01T00:00:00Z")
        #expect(KubernetesTime.microString(Date(timeIntervalSince1970: .nan)) == "1970-01-01T00:00:00.000000Z")
    }

    @Test func microStringBeforeTheEpochCountsForward() {
        #expect(KubernetesTime.microString(Date(timeIntervalSince1970: -0.25)) == "1969-12-31T23:59:59.750000Z")
        #expect(KubernetesTime.string(Date(timeIntervalSince1970: -0.25)) == "1969-12-31T23:59:59Z")
    }

    @Test func impossibleDaysAreRefused() {
        #expect(KubernetesTime.date("2024-02-29T00:00:00Z") != nil)
        for bad in ["2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2025-04-31T00:00:00Z", "2025-00-10T00:00:00Z"] {
            #expect(KubernetesTime.date(bad) == nil, "\(bad)")
        }
        #expect(KubernetesTime.date("2000-02-29T12:00:00-05:30") == Date(timeIntervalSince1970: 951_845_400))
    }
}
