import Foundation
import Testing
@testable import OrcaAPIServer

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
}
