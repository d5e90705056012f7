import Foundation
import OrcaCore

/// JSON patch (RFC 6902): `application/json-patch+json`.
public enum JSONPatch {
    public static func apply(_ patch: JSONValue, to original: JSONValue) throws -> JSONValue {
        guard let ops = patch.arrayValue else { throw OrcaError(.badRequest, "json patch must be an array of operations") }
        var doc = original
        for op in ops {
            guard let kind = op["op"]?.stringValue else { throw OrcaError(.badRequest, "json patch operation has no \"op\"") }
            guard let path = op["path"]?.stringValue else { throw OrcaError(.badRequest, "json patch operation \(kind) has no \"path\"") }
            let tokens = try pointer(path)
            switch kind {
            case "add": doc = try add(doc, tokens, try value(op))
            case "remove": doc = try remove(doc, tokens)
            case "replace":
                _ = try get(doc, tokens)
                doc = try add(try remove(doc, tokens), tokens, try value(op))
            case "move":
                guard let from = op["from"]?.stringValue else { throw OrcaError(.badRequest, "move operation has no \"from\"") }
                let ft = try pointer(from)
                let v = try get(doc, ft)
                doc = try add(try remove(doc, ft), tokens, v)
            case "copy":
                guard let from = op["from"]?.stringValue else { throw OrcaError(.badRequest, "copy operation has no \"from\"") }
                doc = try add(doc, tokens, try get(doc, try pointer(from)))
            case "test":
                if try get(doc, tokens) != (try value(op)) {
                    throw OrcaError(.invalid, "testing value \(path) failed")
                }
            default: throw OrcaError(.badRequest, "unexpected json patch operation \"\(kind)\"")
            }
        }
        return doc
    }

    static func value(_ op: JSONValue) throws -> JSONValue {
        guard let v = op["value"] else { throw OrcaError(.badRequest, "json patch operation has no \"value\"") }
        return v
    }

    static func pointer(_ path: String) throws -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw OrcaError(.badRequest, "json patch path \"\(path)\" must start with /") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ doc: JSONValue, _ tokens: [String]) throws -> JSONValue {
        var cur = doc
        for t in tokens {
            switch cur {
            case .object(let o):
                guard let v = o[t] else { throw OrcaError(.invalid, "doc is missing path: /\(tokens.joined(separator: "/"))") }
                cur = v
            case .array(let a):
                guard let i = Int(t), i >= 0, i < a.count else { throw OrcaError(.invalid, "doc is missing path: /\(tokens.joined(separator: "/"))") }
                cur = a[i]
            default: throw OrcaError(.invalid, "doc is missing path: /\(tokens.joined(separator: "/"))")
            }
        }
        return cur
    }

    static func add(_ doc: JSONValue, _ tokens: [String], _ v: JSONValue) throws -> JSONValue {
        guard let first = tokens.first else { return v }
        let rest = Array(tokens.dropFirst())
        switch doc {
        case .object(var o):
            if rest.isEmpty { o[first] = v } else {
                guard let child = o[first] else { throw OrcaError(.invalid, "doc is missing path: /\(tokens.joined(separator: "/"))") }
                o[first] = try add(child, rest, v)
            }
            return .object(o)
        case .array(var a):
            if rest.isEmpty {
                if first == "-" { a.append(v) } else {
                    guard let i = Int(first), i >= 0, i <= a.count else { throw OrcaError(.invalid, "array index \(first) out of bounds") }
                    a.insert(v, at: i)
                }
            } else {
                guard let i = Int(first), i >= 0, i < a.count else { throw OrcaError(.invalid, "array index \(first) out of bounds") }
                a[i] = try add(a[i], rest, v)
            }
            return .array(a)
        default: throw OrcaError(.invalid, "doc is missing path: /\(tokens.joined(separator: "/"))")
        }
    }

    static func remove(_ doc: JSONValue, _ tokens: [String]) throws -> JSONValue {
        guard let first = tokens.first else { return .null }
        let rest = Array(tokens.dropFirst())
        switch doc {
        case .object(var o):
            guard let child = o[first] else { throw OrcaError(.invalid, "unable to remove nonexistent key: \(first): missing value") }
            o[first] = rest.isEmpty ? nil : try remove(child, rest)
            return .object(o)
        case .array(var a):
            guard let i = Int(first), i >= 0, i < a.count else { throw OrcaError(.invalid, "array index \(first) out of bounds") }
            if rest.isEmpty { a.remove(at: i) } else { a[i] = try remove(a[i], rest) }
            return .array(a)
        default: throw OrcaError(.invalid, "doc is missing path")
        }
    }
}
