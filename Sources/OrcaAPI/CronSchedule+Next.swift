import Foundation

extension CronSchedule {
    /// The first run time strictly after `date` (robfig/cron's `Schedule.Next`): field
    /// schedules run at whole minutes of their zone's wall clock — a wall time that does not
    /// exist (a daylight-saving gap) is skipped; `@every` runs `delay` after `date`
    /// (truncated to the second). Nil when nothing matches within five years.
    public func next(after date: Date) -> Date? {
        switch kind {
        case .every(let seconds):
            return Date(timeIntervalSince1970: (date.timeIntervalSince1970.rounded(.down)) + Double(seconds))
        case .fields(let fields):
            return next(fields, after: date)
        }
    }

    /// A wall-clock minute in the schedule's zone.
    struct WallMinute: Comparable {
        var year: Int, month: Int, day: Int, hour: Int, minute: Int

        static func < (a: WallMinute, b: WallMinute) -> Bool {
            (a.year, a.month, a.day, a.hour, a.minute) < (b.year, b.month, b.day, b.hour, b.minute)
        }
    }

    func next(_ f: Fields, after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // The earliest candidate: the first whole minute at or after the next whole second.
        let earliestSecond = date.timeIntervalSince1970.rounded(.down) + 1
        let earliest = Date(timeIntervalSince1970: (earliestSecond / 60).rounded(.up) * 60)
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: earliest)
        guard let y0 = c.year, let mo0 = c.month, let d0 = c.day, let h0 = c.hour, let mi0 = c.minute else { return nil }
        let start = WallMinute(year: y0, month: mo0, day: d0, hour: h0, minute: mi0)
        for year in y0...(y0 + 5) {
            for month in 1...12 where f.month & (1 << UInt64(month)) != 0 {
                if (year, month) < (start.year, start.month) { continue }
                for day in 1...Self.daysIn(year: year, month: month) where Self.dayMatches(f, year: year, month: month, day: day) {
                    if (year, month, day) < (start.year, start.month, start.day) { continue }
                    for hour in 0...23 where f.hour & (1 << UInt64(hour)) != 0 {
                        for minute in 0...59 where f.minute & (1 << UInt64(minute)) != 0 {
                            let wall = WallMinute(year: year, month: month, day: day, hour: hour, minute: minute)
                            if wall < start { continue }
                            guard let candidate = calendar.date(from: DateComponents(year: year, month: month, day: day,
                                                                                    hour: hour, minute: minute)) else { continue }
                            // A wall time inside a daylight-saving gap does not exist.
                            let back = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: candidate)
                            if back.day != day || back.hour != hour || back.minute != minute { continue }
                            if candidate >= earliest { return candidate }
                        }
                    }
                }
            }
        }
        return nil
    }

    /// Day-of-month and day-of-week: both must match when either field is `*`, else either.
    static func dayMatches(_ f: Fields, year: Int, month: Int, day: Int) -> Bool {
        let dom = f.dayOfMonth & (1 << UInt64(day)) != 0
        let dow = f.dayOfWeek & (1 << UInt64(weekday(year: year, month: month, day: day))) != 0
        if f.dayOfMonthStar || f.dayOfWeekStar { return dom && dow }
        return dom || dow
    }

    /// The number of days in a month of the proleptic Gregorian calendar.
    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// 0 = Sunday … 6 = Saturday.
    static func weekday(year: Int, month: Int, day: Int) -> Int {
        // Days since 1970-01-01 (a Thursday), from Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let w = (days + 4) % 7
        return w >= 0 ? w : w + 7
    }
}
