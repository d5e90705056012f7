import Foundation

/// The standard cron syntax CronJobs use (robfig/cron's `ParseStandard`): five fields or a
/// descriptor (`@hourly`, `@every 90m`). Only checks; running schedules is the controller's.
enum CronSchedule {
    struct Bounds {
        var min: Int
        var max: Int
        var names: [String: Int] = [:]
    }

    static let fields: [Bounds] = [
        Bounds(min: 0, max: 59),
        Bounds(min: 0, max: 23),
        Bounds(min: 1, max: 31),
        Bounds(min: 1, max: 12, names: ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
                                        "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12]),
        Bounds(min: 0, max: 6, names: ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]),
    ]

    static let descriptors: Set<String> = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]

    /// The parse error of `spec` in robfig/cron's words, or nil if it parses.
    static func parseError(_ spec: String) -> String? {
        var text = spec.trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return "empty spec string" }
        if text.hasPrefix("TZ=") || text.hasPrefix("CRON_TZ=") {
            guard let space = text.firstIndex(of: " ") else { return "provided bad location \(text.split(separator: "=").last ?? ""): unknown time zone" }
            let zone = String(text[text.index(after: text.firstIndex(of: "=")!)..<space])
            if TimeZone(identifier: zone) == nil { return "provided bad location \(zone): unknown time zone \(zone)" }
            text = text[space...].trimmingCharacters(in: .whitespaces)
        }
        if text.hasPrefix("@") {
            if descriptors.contains(text) { return nil }
            if text.hasPrefix("@every ") {
                let duration = String(text.dropFirst("@every ".count))
                return isGoDuration(duration) ? nil : "failed to parse duration \(text): time: invalid duration \(GoFormat.quote(duration))"
            }
            return "unrecognized descriptor: \(text)"
        }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if parts.count != 5 {
            return "expected exactly 5 fields, found \(parts.count): [\(parts.joined(separator: " "))]"
        }
        for (part, bounds) in zip(parts, fields) {
            for range in part.split(separator: ",", omittingEmptySubsequences: false) {
                if let error = rangeError(String(range), bounds) { return error }
            }
        }
        return nil
    }

    static func rangeError(_ expr: String, _ r: Bounds) -> String? {
        let rangeAndStep = expr.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let lowAndHigh = rangeAndStep[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        var start: Int, end: Int
        if lowAndHigh[0] == "*" || lowAndHigh[0] == "?" {
            start = r.min
            end = r.max
        } else {
            switch parseIntOrName(lowAndHigh[0], r.names) {
            case .failure(let e): return e.message
            case .success(let n): start = n
            }
            switch lowAndHigh.count {
            case 1: end = start
            case 2:
                switch parseIntOrName(lowAndHigh[1], r.names) {
                case .failure(let e): return e.message
                case .success(let n): end = n
                }
            default: return "too many hyphens: \(expr)"
            }
        }
        var step = 1
        switch rangeAndStep.count {
        case 1: break
        case 2:
            switch parseInt(rangeAndStep[1]) {
            case .failure(let e): return e.message
            case .success(let n): step = n
            }
            if lowAndHigh.count == 1, lowAndHigh[0] != "*", lowAndHigh[0] != "?" { end = r.max }
        default: return "too many slashes: \(expr)"
        }
        if start < r.min { return "beginning of range (\(start)) below minimum (\(r.min)): \(expr)" }
        if end > r.max { return "end of range (\(end)) above maximum (\(r.max)): \(expr)" }
        if start > end { return "beginning of range (\(start)) beyond end of range (\(end)): \(expr)" }
        if step == 0 { return "step of range should be a positive number: \(expr)" }
        return nil
    }

    struct ParseError: Error { var message: String }

    static func parseIntOrName(_ s: String, _ names: [String: Int]) -> Result<Int, ParseError> {
        if let n = names[s.lowercased()] { return .success(n) }
        return parseInt(s)
    }

    static func parseInt(_ s: String) -> Result<Int, ParseError> {
        guard let n = Int(s) else {
            return .failure(ParseError(message: "failed to parse int from \(s): strconv.Atoi: parsing \(GoFormat.quote(s)): invalid syntax"))
        }
        if n < 0 { return .failure(ParseError(message: "negative number (\(n)) not allowed: \(s)")) }
        return .success(n)
    }

    /// Go's `time.ParseDuration` syntax (`1h30m`, `90s`, `1.5h`).
    static func isGoDuration(_ s: String) -> Bool {
        var rest = Substring(s)
        if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
        if rest == "0" { return true }
        if rest.isEmpty { return false }
        let units = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            if number.isEmpty || number == "." { return false }
            rest = rest.dropFirst(number.count)
            guard let unit = units.sorted(by: { $0.count > $1.count }).first(where: { rest.hasPrefix($0) }) else { return false }
            rest = rest.dropFirst(unit.count)
        }
        return true
    }
}
