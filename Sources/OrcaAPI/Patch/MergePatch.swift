import OrcaCore

/// JSON merge patch (RFC 7386): `application/merge-patch+json`.
public enum MergePatch {
    public static func apply(_ patch: JSONValue, to original: JSONValue) -> JSONValue {
        guard case .object(let p) = patch else { return patch }
        var result: [String: JSONValue] = original.objectValue ?? [:]
        for (k, v) in p {
            if v.isNull { result[k] = nil } else { result[k] = apply(v, to: result[k] ?? .null) }
        }
        return .object(result)
    }

    /// The merge patch that turns `original` into `modified`.
    public static func diff(from original: JSONValue, to modified: JSONValue) -> JSONValue? {
        guard case .object(let o) = original, case .object(let m) = modified else {
            return original == modified ? nil : modified
        }
        var out: [String: JSONValue] = [:]
        for (k, v) in m {
            if let ov = o[k] {
                if let d = diff(from: ov, to: v) { out[k] = d }
            } else { out[k] = v }
        }
        for k in o.keys where m[k] == nil { out[k] = .null }
        return out.isEmpty ? nil : .object(out)
    }
}
