/// The resolver settings of a `resolv.conf`: name servers, search domains and options.
public struct ResolvConf: Hashable, Sendable {
    /// `nameserver` lines, in order.
    public var nameservers: [String]
    /// The `search` list.
    public var searches: [String]
    /// The `options` entries (`ndots:5`, `edns0`).
    public var options: [String]

    /// At most this many name servers are kept (the resolver reads no more).
    public static let maxNameservers = 3
    /// At most this many search domains are kept.
    public static let maxSearchPaths = 32
    /// At most this many characters of search list are kept.
    public static let maxSearchListChars = 2048

    /// Creates resolver settings.
    public init(nameservers: [String] = [], searches: [String] = [], options: [String] = []) {
        self.nameservers = nameservers
        self.searches = searches
        self.options = options
    }

    /// Parses a `resolv.conf` as the kubelet does: every `nameserver`, the last `search` line
    /// (trailing dots trimmed, `.` dropped), and `options` merged by name; comments and other lines ignored.
    public init(parsing text: String) {
        self.init()
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.first == "#" || line.first == ";" { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let keyword = fields.first else { continue }
            switch keyword {
            case "nameserver":
                if fields.count > 1 { nameservers.append(fields[1]) }
            case "search":
                searches = fields.dropFirst().filter { $0 != "." }.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }
            case "options":
                options = Self.mergeOptions(options, fields.dropFirst().map { Self.splitOption($0) })
            default:
                continue
            }
        }
    }

    /// The file text: `search`, then one `nameserver` line each, then `options`; empty parts omitted.
    public var rendered: String {
        var out = ""
        if !searches.isEmpty { out += "search \(searches.joined(separator: " "))\n" }
        for ns in nameservers { out += "nameserver \(ns)\n" }
        if !options.isEmpty { out += "options \(options.joined(separator: " "))\n" }
        return out
    }

    /// Cut to what resolvers accept: 3 name servers, 32 search domains of at most 2048 characters in all.
    public func fittingLimits() -> ResolvConf {
        var copy = self
        copy.nameservers = Array(nameservers.prefix(Self.maxNameservers))
        copy.searches = Array(searches.prefix(Self.maxSearchPaths))
        while !copy.searches.isEmpty && copy.searches.joined(separator: " ").count > Self.maxSearchListChars {
            copy.searches.removeLast()
        }
        return copy
    }

    /// Drops later duplicates, keeping first occurrences in order.
    static func omittingDuplicates(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    /// `name:value` → (name, value); `name` → (name, nil).
    static func splitOption(_ option: String) -> (name: String, value: String?) {
        guard let colon = option.firstIndex(of: ":") else { return (option, nil) }
        return (String(option[..<colon]), String(option[option.index(after: colon)...]))
    }

    /// Merges options by name: a later option replaces an earlier one of the same name in its place;
    /// new names are appended.
    static func mergeOptions(_ existing: [String], _ added: [(name: String, value: String?)]) -> [String] {
        var order: [String] = []
        var values: [String: String?] = [:]
        for (name, value) in existing.map(splitOption) + added {
            if values[name] == nil { order.append(name) }
            values[name] = .some(value)
        }
        return order.map { name in
            if let value = values[name] ?? nil, !value.isEmpty { return "\(name):\(value)" }
            return name
        }
    }
}
