import Foundation
import OrcaCore

/// JSON patch (RFC 6902): `application/json-patch+json`.
public enum JSONPatch {
    /// The most operations one patch may have (kube-apiserver's `maxJSONPatchOperations`).
    public static let maxOperations = 10_000
    /// The most bytes all `copy` operations of one patch may add (json-patch's
    /// `AccumulatedCopySizeLimit`, as kube-apiserver sets it), so a patch of a few kilobytes
    /// cannot double a document again and again.
    public static let maxAccumulatedCopyBytes = 3 * 1024 * 1024

    /// Applies `patch` to `original`. Each operation costs time in the length of its paths and
    /// the size of its value, not of the document (containers are changed in place).
    public static func apply(_ patch: JSONValue, to original: JSONValue) throws -> JSONValue {
        guard let ops = patch.arrayValue else { throw OrcaError(.badRequest, "json patch must be an array of operations") }
        guard ops.count <= maxOperations else {
            throw OrcaError(.requestEntityTooLarge, "The allowed maximum operations in a JSON patch is \(maxOperations), got \(ops.count)")
        }
        var doc = original
        var copied = 0
        for op in ops {
            guard let kind = op["op"]?.stringValue else { throw OrcaError(.badRequest, "json patch operation has no \"op\"") }
            guard let path = op["path"]?.stringValue else { throw OrcaError(.badRequest, "json patch operation \(kind) has no \"path\"") }
            let tokens = try pointer(path)[...]
            switch kind {
            case "add": try add(&doc, tokens, try value(op))
            case "remove": _ = try remove(&doc, tokens)
            case "replace":
                _ = try get(doc, tokens)
                _ = try remove(&doc, tokens)
                try add(&doc, tokens, try value(op))
            case "move":
                guard let from = op["from"]?.stringValue else { throw OrcaError(.badRequest, "move operation has no \"from\"") }
                let v = try remove(&doc, try pointer(from)[...])
                try add(&doc, tokens, v)
            case "copy":
                guard let from = op["from"]?.stringValue else { throw OrcaError(.badRequest, "copy operation has no \"from\"") }
                let v = try get(doc, try pointer(from)[...])
                let budget = maxAccumulatedCopyBytes - copied
                let size = v.encodedSize(upTo: budget + 1)
                copied += size
                guard copied <= maxAccumulatedCopyBytes else {
                    throw OrcaError(.invalid, "Unable to complete the copy, the accumulated size increase of copy is more than \(maxAccumulatedCopyBytes), exceeding the limit \(maxAccumulatedCopyBytes)")
                }
                try add(&doc, tokens, v)
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

    static func missing(_ tokens: ArraySlice<String>) -> OrcaError {
        OrcaError(.invalid, "doc is missing path: /\(tokens.joined(separator: "/"))")
    }

    static func get(_ doc: JSONValue, _ tokens: ArraySlice<String>) throws -> JSONValue {
        var cur = doc
        for t in tokens {
            switch cur {
            case .object(let o):
                guard let v = o[t] else { throw missing(tokens) }
                cur = v
            case .array(let a):
                guard let i = Int(t), i >= 0, i < a.count else { throw missing(tokens) }
                cur = a[i]
            default: throw missing(tokens)
            }
        }
        return cur
    }

    /// Adds `v` at `tokens`, changing `doc` in place (each container on the path is taken out
    /// of its parent while it changes, so it is not copied).
    static func add(_ doc: inout JSONValue, _ tokens: ArraySlice<String>, _ v: JSONValue) throws {
        guard let first = tokens.first else {
            doc = v
            return
        }
        let rest = tokens.dropFirst()
        switch doc {
        case .object(var o):
            doc = .null
            defer { doc = .object(o) }
            if rest.isEmpty {
                o[first] = v
            } else {
                guard var child = o.removeValue(forKey: first) else { throw missing(tokens) }
                defer { o[first] = child }
                try add(&child, rest, v)
            }
        case .array(var a):
            doc = .null
            defer { doc = .array(a) }
            if rest.isEmpty {
                if first == "-" { a.append(v) } else {
                    guard let i = Int(first), i >= 0, i <= a.count else { throw OrcaError(.invalid, "array index \(first) out of bounds") }
                    a.insert(v, at: i)
                }
            } else {
                guard let i = Int(first), i >= 0, i < a.count else { throw OrcaError(.invalid, "array index \(first) out of bounds") }
                var child = a[i]
                a[i] = .null
                defer { a[i] = child }
                try add(&child, rest, v)
            }
        default: throw missing(tokens)
        }
    }

    /// Removes and returns the value at `tokens`, changing `doc` in place.
    static func remove(_ doc: inout JSONValue, _ tokens: ArraySlice<String>) throws -> JSONValue {
        guard let first = tokens.first else {
            defer { doc = .null }
            return doc
        }
        let rest = tokens.dropFirst()
        switch doc {
        case .object(var o):
            doc = .null
            defer { doc = .object(o) }
            guard var child = o.removeValue(forKey: first) else {
                throw OrcaError(.invalid, "unable to remove nonexistent key: \(first): missing value")
            }
            if rest.isEmpty { return child }
            defer { o[first] = child }
            return try remove(&child, rest)
        case .array(var a):
            doc = .null
            defer { doc = .array(a) }
            guard let i = Int(first), i >= 0, i < a.count else { throw OrcaError(.invalid, "array index \(first) out of bounds") }
            if rest.isEmpty { return a.remove(at: i) }
            var child = a[i]
            a[i] = .null
            defer { a[i] = child }
            return try remove(&child, rest)
        default: throw missing(tokens)
        }
    }
}
