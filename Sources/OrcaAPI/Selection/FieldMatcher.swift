import Foundation
import OrcaCore

/// A parsed field selector (`spec.nodeName=node1,status.phase!=Running`).
public struct FieldMatcher: Sendable, Hashable {
    public struct Requirement: Sendable, Hashable {
        public var field: String
        public var equals: Bool
        public var value: String

        public init(field: String, equals: Bool, value: String) {
            self.field = field
            self.equals = equals
            self.value = value
        }
    }

    public var requirements: [Requirement]
    public static let everything = FieldMatcher(requirements: [])
    public var isEmpty: Bool { requirements.isEmpty }

    public init(requirements: [Requirement]) { self.requirements = requirements }

    public init(parsing text: String) throws {
        var reqs: [Requirement] = []
        for part in text.split(separator: ",") {
            let p = part.trimmingCharacters(in: .whitespaces)
            if p.isEmpty { continue }
            if let r = p.range(of: "!=") {
                reqs.append(Requirement(field: String(p[..<r.lowerBound]), equals: false, value: String(p[r.upperBound...])))
            } else if let r = p.range(of: "==") ?? p.range(of: "=") {
                reqs.append(Requirement(field: String(p[..<r.lowerBound]), equals: true, value: String(p[r.upperBound...])))
            } else {
                throw OrcaError(.badRequest, "invalid selector: '\(text)'; can't understand '\(p)'")
            }
        }
        self.requirements = reqs
    }

    /// The value the selector sees for `field` of an object: a dotted path into the JSON;
    /// a missing field reads as the empty string, as Kubernetes' field sets do.
    public static func fieldValue(_ object: JSONValue, _ field: String) -> String {
        var cur: JSONValue? = object
        for k in field.split(separator: ".") { cur = cur?[String(k)] }
        switch cur {
        case .string(let s)?: return s
        case .bool(let b)?: return b ? "true" : "false"
        case .int(let i)?: return String(i)
        default: return ""
        }
    }

    public func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { r in
            (FieldMatcher.fieldValue(object, r.field) == r.value) == r.equals
        }
    }

    /// The value an `=` requirement fixes for `field`, if any (used to narrow watches).
    public func requiredValue(for field: String) -> String? {
        requirements.first { $0.field == field && $0.equals }?.value
    }
}

extension FieldMatcher: CustomStringConvertible {
    /// The string form `init(parsing:)` reads back: `spec.nodeName=node1,status.phase!=Running`.
    public var description: String {
        requirements.map { "\($0.field)\($0.equals ? "=" : "!=")\($0.value)" }.joined(separator: ",")
    }
}
