import Foundation
import Testing
import OrcaAPI

/// CronJob schedules, checked as robfig/cron's `ParseStandard` does.
@Suite struct CronScheduleTests {
    static let valid = [
        "* * * * *", "*/5 * * * *", "0 0 * * 0", "0 9-17 * * mon-fri", "15,45 * 1 jan,jul *", "0 0 1 */2 ?",
        "@hourly", "@daily", "@midnight", "@every 90m", "@every 1h30m", "TZ=UTC 0 * * * *", "5/15 * * * *",
    ]

    @Test(arguments: valid)
    func validSchedules(schedule: String) {
        #expect(CronSchedule.parseError(schedule) == nil)
    }

    /// (schedule, error)
    static let invalid: [(String, String)] = [
        ("", "empty spec string"),
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
        ("60 * * * *", "end of range (60) above maximum (59): 60"),
        ("* 24 * * *", "end of range (24) above maximum (23): 24"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("x * * * *", "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/2/3 * * * *", "too many slashes: */2/3"),
        ("* * * * sunday", "failed to parse int from sunday: strconv.Atoi: parsing \"sunday\": invalid syntax"),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ("@every soon", "failed to parse duration @every soon: time: invalid duration \"soon\""),
    ]

    @Test(arguments: invalid)
    func invalidSchedules(schedule: String, error: String) {
        #expect(CronSchedule.parseError(schedule) == error)
    }

    /// A schedule, a time, and the run expected next (nil: none within five years); UTC
    /// unless the schedule names a zone.
    struct Run: Sendable, CustomTestStringConvertible {
        var schedule: String
        var after: String
        var expected: String?
        init(_ schedule: String, _ after: String, _ expected: String?) {
            self.schedule = schedule
            self.after = after
            self.expected = expected
        }
        var testDescription: String { "\(schedule) after \(after)" }
    }

    static let runs: [Run] = [
        Run("*/15 * * * *", "2023-11-14T22:13:20Z", "2023-11-14T22:15:00Z"),
        Run("* * * * *", "2023-11-14T22:14:00Z", "2023-11-14T22:15:00Z"),
        Run("0 9 * * mon-fri", "2023-11-17T10:00:00Z", "2023-11-20T09:00:00Z"),
        Run("0 0 1,15 * 5", "2023-11-14T22:13:20Z", "2023-11-15T00:00:00Z"),
        Run("0 0 29 2 *", "2023-03-01T00:00:00Z", "2024-02-29T00:00:00Z"),
        Run("@yearly", "2023-11-14T22:13:20Z", "2024-01-01T00:00:00Z"),
        Run("@weekly", "2023-11-14T22:13:20Z", "2023-11-19T00:00:00Z"),
        Run("@every 90m", "2023-11-14T22:13:20Z", "2023-11-14T23:43:20Z"),
        Run("TZ=America/New_York 0 9 * * *", "2023-11-14T22:13:20Z", "2023-11-15T14:00:00Z"),
        Run("CRON_TZ=America/New_York 30 2 * * *", "2024-03-09T12:00:00Z", "2024-03-11T06:30:00Z"),
        Run("0 0 30 2 *", "2023-11-14T22:13:20Z", nil),
    ]

    @Test(arguments: runs)
    func nextRun(run: Run) throws {
        let parsed = try CronSchedule(parsing: run.schedule, timeZone: TimeZone(identifier: "UTC")!)
        let next = parsed.next(after: KubernetesTime.date(run.after)!)
        #expect(next.map(KubernetesTime.string) == run.expected)
    }
}
