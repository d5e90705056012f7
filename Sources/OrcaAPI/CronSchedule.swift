import Foundation

/// A CronJob schedule in the standard cron syntax (robfig/cron's `ParseStandard`, as
/// kube-apiserver validates and kube-controller-manager runs it): five fields
/// (minute hour day-of-month month day-of-week), or a descriptor (`@hourly`, `@every 90m`),
/// optionally prefixed by `TZ=<zone>` or `CRON_TZ=<zone>`. `next(after:)` finds run times.
public struct CronSchedule: Sendable, Hashable {
    /// A schedule that does not parse, in robfig/cron's words.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The allowed values of the five fields as bit sets (bit n = value n), plus whether
    /// day-of-month and day-of-week were `*`/`?` (then both must match, else either).
    struct Fields: Sendable, Hashable {
        var minute: UInt64
        var hour: UInt64
        var dayOfMonth: UInt64
        var month: UInt64
        var dayOfWeek: UInt64
        var dayOfMonthStar: Bool
        var dayOfWeekStar: Bool
    }

    enum Kind: Sendable, Hashable {
        /// Field matching.
        case fields(Fields)
        /// `@every <duration>`: a constant delay in whole seconds (at least one).
        case every(Int64)
    }

    let kind: Kind
    /// The zone the fields are read in: `TZ=`/`CRON_TZ=` of the spec, else the default.
    public let timeZone: TimeZone

    /// Parses `spec`; fields are read in `timeZone` unless the spec names its own zone.
    public init(parsing spec: String, timeZone: TimeZone = .current) throws {
        switch Self.parse(spec, timeZone: timeZone) {
        case .success(let schedule): self = schedule
        case .failure(let error): throw error
        }
    }

    init(kind: Kind, timeZone: TimeZone) {
        self.kind = kind
        self.timeZone = timeZone
    }

    /// The parse error of `spec` in robfig/cron's words, or nil if it parses.
    public static func parseError(_ spec: String) -> String? {
        if case .failure(let error) = parse(spec, timeZone: TimeZone(identifier: "UTC")!) { return error.message }
        return nil
    }

    struct Bounds {
        var min: Int
        var max: Int
        var names: [String: Int] = [:]
    }

    static let bounds: [Bounds] = [
        Bounds(min: 0, max: 59),
        Bounds(min: 0, max: 23),
        Bounds(min: 1, max: 31),
        Bounds(min: 1, max: 12, names: ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
                                        "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12]),
        Bounds(min: 0, max: 6, names: ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]),
    ]

    static func parse(_ spec: String, timeZone defaultZone: TimeZone) -> Result<CronSchedule, ParseError> {
        var text = spec.trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return .failure(ParseError(message: "empty spec string")) }
        var zone = defaultZone
        if text.hasPrefix("TZ=") || text.hasPrefix("CRON_TZ=") {
            guard let space = text.firstIndex(of: " "), let equals = text.firstIndex(of: "=") else {
                return .failure(ParseError(message: "provided bad location \(text.split(separator: "=").last ?? ""): unknown time zone"))
            }
            let name = String(text[text.index(after: equals)..<space])
            guard let named = TimeZone(identifier: name) else {
                return .failure(ParseError(message: "provided bad location \(name): unknown time zone \(name)"))
            }
            zone = named
            text = text[space...].trimmingCharacters(in: .whitespaces)
        }
        if text.hasPrefix("@") {
            if let fields = descriptor(text) { return .success(CronSchedule(kind: .fields(fields), timeZone: zone)) }
            if text.hasPrefix("@every ") {
                let duration = String(text.dropFirst("@every ".count))
                guard let seconds = GoDuration.seconds(duration) else {
                    return .failure(ParseError(message: "failed to parse duration \(text): time: invalid duration \(GoQuote.quote(duration))"))
                }
                // robfig/cron's Every: at least one second, truncated to whole seconds.
                return .success(CronSchedule(kind: .every(max(1, Int64(seconds.rounded(.towardZero)))), timeZone: zone))
            }
            return .failure(ParseError(message: "unrecognized descriptor: \(text)"))
        }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if parts.count != 5 {
            return .failure(ParseError(message: "expected exactly 5 fields, found \(parts.count): [\(parts.joined(separator: " "))]"))
        }
        var bits: [UInt64] = []
        var stars: [Bool] = []
        for (part, bounds) in zip(parts, Self.bounds) {
            var fieldBits: UInt64 = 0
            var star = false
            for range in part.split(separator: ",", omittingEmptySubsequences: false) {
                switch rangeBits(String(range), bounds) {
                case .failure(let e): return .failure(e)
                case .success(let r):
                    fieldBits |= r.bits
                    star = star || r.star
                }
            }
            bits.append(fieldBits)
            stars.append(star)
        }
        let fields = Fields(minute: bits[0], hour: bits[1], dayOfMonth: bits[2], month: bits[3], dayOfWeek: bits[4],
                            dayOfMonthStar: stars[2], dayOfWeekStar: stars[4])
        return .success(CronSchedule(kind: .fields(fields), timeZone: zone))
    }

    /// The predefined schedules (`@hourly` …).
    static func descriptor(_ text: String) -> Fields? {
        let all = { (i: Int) in Self.bitRange(Self.bounds[i].min, Self.bounds[i].max, 1) }
        switch text {
        case "@yearly", "@annually":
            return Fields(minute: 1, hour: 1, dayOfMonth: 1 << 1, month: 1 << 1, dayOfWeek: all(4), dayOfMonthStar: false, dayOfWeekStar: true)
        case "@monthly":
            return Fields(minute: 1, hour: 1, dayOfMonth: 1 << 1, month: all(3), dayOfWeek: all(4), dayOfMonthStar: false, dayOfWeekStar: true)
        case "@weekly":
            return Fields(minute: 1, hour: 1, dayOfMonth: all(2), month: all(3), dayOfWeek: 1, dayOfMonthStar: true, dayOfWeekStar: false)
        case "@daily", "@midnight":
            return Fields(minute: 1, hour: 1, dayOfMonth: all(2), month: all(3), dayOfWeek: all(4), dayOfMonthStar: true, dayOfWeekStar: true)
        case "@hourly":
            return Fields(minute: 1, hour: all(1), dayOfMonth: all(2), month: all(3), dayOfWeek: all(4), dayOfMonthStar: true, dayOfWeekStar: true)
        default:
            return nil
        }
    }

    static func bitRange(_ start: Int, _ end: Int, _ step: Int) -> UInt64 {
        var bits: UInt64 = 0
        for i in stride(from: start, through: end, by: step) { bits |= 1 << UInt64(i) }
        return bits
    }

    /// One comma-separated part of a field (`*`, `5`, `1-5`, `*/15`, `5/15`, `mon-fri`).
    static func rangeBits(_ expr: String, _ r: Bounds) -> Result<(bits: UInt64, star: Bool), ParseError> {
        let rangeAndStep = expr.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let lowAndHigh = rangeAndStep[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        var start: Int, end: Int
        var star = false
        if lowAndHigh[0] == "*" || lowAndHigh[0] == "?" {
            start = r.min
            end = r.max
            star = true
        } else {
            switch parseIntOrName(lowAndHigh[0], r.names) {
            case .failure(let e): return .failure(e)
            case .success(let n): start = n
            }
            switch lowAndHigh.count {
            case 1: end = start
            case 2:
                switch parseIntOrName(lowAndHigh[1], r.names) {
                case .failure(let e): return .failure(e)
                case .success(let n): end = n
                }
            default: return .failure(ParseError(message: "too many hyphens: \(expr)"))
            }
        }
        var step = 1
        switch rangeAndStep.count {
        case 1: break
        case 2:
            switch parseInt(rangeAndStep[1]) {
            case .failure(let e): return .failure(e)
            case .success(let n): step = n
            }
            if lowAndHigh.count == 1, lowAndHigh[0] != "*", lowAndHigh[0] != "?" { end = r.max }
            if step > 1 { star = false }
        default: return .failure(ParseError(message: "too many slashes: \(expr)"))
        }
        if start < r.min { return .failure(ParseError(message: "beginning of range (\(start)) below minimum (\(r.min)): \(expr)")) }
        if end > r.max { return .failure(ParseError(message: "end of range (\(end)) above maximum (\(r.max)): \(expr)")) }
        if start > end { return .failure(ParseError(message: "beginning of range (\(start)) beyond end of range (\(end)): \(expr)")) }
        if step == 0 { return .failure(ParseError(message: "step of range should be a positive number: \(expr)")) }
        return .success((bitRange(start, end, step), star))
    }

    static func parseIntOrName(_ s: String, _ names: [String: Int]) -> Result<Int, ParseError> {
        if let n = names[s.lowercased()] { return .success(n) }
        return parseInt(s)
    }

    static func parseInt(_ s: String) -> Result<Int, ParseError> {
        guard let n = Int(s) else {
            return .failure(ParseError(message: "failed to parse int from \(s): strconv.Atoi: parsing \(GoQuote.quote(s)): invalid syntax"))
        }
        if n < 0 { return .failure(ParseError(message: "negative number (\(n)) not allowed: \(s)")) }
        return .success(n)
    }

}
