import Foundation
import OrcaCore

/// A parsed label selector query (`app=web,tier!=db,env in (a,b),!legacy`), as `-l` sends it.
public struct LabelMatcher: Sendable, Hashable {
    public enum Operator: Sendable, Hashable { case equals, notEquals, `in`, notIn, exists, doesNotExist }

    public struct Requirement: Sendable, Hashable {
        public var key: String
        public var op: Operator
        public var values: [String]

        public init(key: String, op: Operator, values: [String]) {
            self.key = key
            self.op = op
            self.values = values
        }

        public func matches(_ labels: [String: String]) -> Bool {
            switch op {
            case .equals, .in: return labels[key].map { values.contains($0) } ?? false
            case .notEquals, .notIn: return labels[key].map { !values.contains($0) } ?? true
            case .exists: return labels[key] != nil
            case .doesNotExist: return labels[key] == nil
            }
        }
    }

    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    /// Matches everything.
    public static let everything = LabelMatcher()
    public var isEmpty: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// Parses the string form; throws `.badRequest` with a message naming the bad part.
    public init(parsing text: String) throws {
        var reqs: [Requirement] = []
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        func skipSpaces() { while s.first == " " { s.removeFirst() } }
        func readKey() -> String {
            var k = ""
            while let c = s.first, !" ,=!()".contains(c) { k.append(c); s.removeFirst() }
            return k
        }
        while !s.isEmpty {
            skipSpaces()
            if s.first == "!" {
                s.removeFirst()
                skipSpaces()
                let key = readKey()
                guard !key.isEmpty else { throw OrcaError(.badRequest, "unable to parse requirement: found '!', expected: identifier") }
                reqs.append(Requirement(key: key, op: .doesNotExist, values: []))
            } else {
                let key = readKey()
                guard !key.isEmpty else { throw OrcaError(.badRequest, "unable to parse requirement: \"\(text)\"") }
                try LabelMatcher.validateKey(key)
                skipSpaces()
                if s.hasPrefix("==") || s.hasPrefix("!=") || s.hasPrefix("=") {
                    let op: Operator = s.hasPrefix("!=") ? .notEquals : .equals
                    s.removeFirst(s.hasPrefix("=") && !s.hasPrefix("==") ? 1 : 2)
                    skipSpaces()
                    var v = ""
                    while let c = s.first, c != ",", c != " " { v.append(c); s.removeFirst() }
                    reqs.append(Requirement(key: key, op: op, values: [v]))
                } else if s.hasPrefix("in ") || s.hasPrefix("in(") || s.hasPrefix("notin ") || s.hasPrefix("notin(") {
                    let op: Operator = s.hasPrefix("in") ? .in : .notIn
                    s.removeFirst(op == .in ? 2 : 5)
                    skipSpaces()
                    guard s.first == "(" else { throw OrcaError(.badRequest, "unable to parse requirement: found '\(s)', expected: '('") }
                    s.removeFirst()
                    guard let close = s.firstIndex(of: ")") else { throw OrcaError(.badRequest, "unable to parse requirement: missing ')'") }
                    let values = s[..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    s = s[s.index(after: close)...]
                    reqs.append(Requirement(key: key, op: op, values: values))
                } else {
                    reqs.append(Requirement(key: key, op: .exists, values: []))
                }
            }
            skipSpaces()
            if s.first == "," { s.removeFirst() } else if !s.isEmpty {
                throw OrcaError(.badRequest, "unable to parse requirement: found '\(s)', expected: ','")
            }
        }
        self.requirements = reqs
    }

    static func validateKey(_ key: String) throws {
        let name = key.split(separator: "/").last.map(String.init) ?? key
        guard !name.isEmpty, name.count <= 63,
              name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw OrcaError(.badRequest, "invalid label key \"\(key)\": name part must consist of alphanumeric characters, '-', '_' or '.'")
        }
    }

    /// Builds a selector from a `metav1.LabelMatcher` object (matchLabels + matchExpressions).
    public init(object: JSONValue?) throws {
        var reqs: [Requirement] = []
        for (k, v) in (object?["matchLabels"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            reqs.append(Requirement(key: k, op: .equals, values: [v.stringValue ?? ""]))
        }
        for e in object?["matchExpressions"]?.arrayValue ?? [] {
            let key = e["key"]?.stringValue ?? ""
            let values = e["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
            switch e["operator"]?.stringValue ?? "" {
            case "In": reqs.append(Requirement(key: key, op: .in, values: values))
            case "NotIn": reqs.append(Requirement(key: key, op: .notIn, values: values))
            case "Exists": reqs.append(Requirement(key: key, op: .exists, values: []))
            case "DoesNotExist": reqs.append(Requirement(key: key, op: .doesNotExist, values: []))
            case let other: throw OrcaError(.invalid, "\"\(other)\" is not a valid label selector operator")
            }
        }
        self.requirements = reqs
    }
}

extension LabelMatcher: CustomStringConvertible {
    /// The string form, as `labels.Selector.String()` renders it and `init(parsing:)` reads
    /// it back: `app=web,tier!=db,env in (a,b),env notin (c),legacy,!beta`. Values of set
    /// requirements are sorted, as Kubernetes does.
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }
}

extension LabelMatcher.Requirement: CustomStringConvertible {
    /// One requirement in the selector syntax.
    public var description: String {
        switch op {
        case .equals where values.count == 1: return "\(key)=\(values[0])"
        case .notEquals where values.count == 1: return "\(key)!=\(values[0])"
        case .equals, .in: return "\(key) in (\(values.sorted().joined(separator: ",")))"
        case .notEquals, .notIn: return "\(key) notin (\(values.sorted().joined(separator: ",")))"
        case .exists: return key
        case .doesNotExist: return "!\(key)"
        }
    }
}
