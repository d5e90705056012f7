import Foundation
import OrcaClient

/// When two pod statuses mean the same (the kubelet's `isPodStatusByKubeletEqual` and
/// `normalizeStatus`), so that the status manager writes only changes of meaning.
///
/// The agent's status is compared key by key with another (the last one it set, or the API's
/// copy): keys it does not write are not its to compare (a merge patch leaves them as they are).
/// Of the conditions only the agent's own count, by type, and only by status, reason and
/// message — a condition whose status did not change keeps its `lastTransitionTime`. Nulls and
/// empty objects are the same as absent fields, and container statuses are compared by name.
enum PodStatusEquality {
    /// The conditions the node agent owns (the kubelet's `PodConditionByKubelet`).
    static let agentConditions: Set<String> = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"]

    /// Whether the API (or an earlier status) already says what `ours` says.
    static func matches(_ ours: JSONValue, _ theirs: JSONValue?) -> Bool {
        guard let ours = ours.objectValue else { return ours == theirs }
        let theirs = theirs?.objectValue ?? [:]
        for (key, value) in ours {
            if key == "conditions" {
                guard conditionsMatch(value, theirs[key]) else { return false }
            } else if normalized(value) != normalized(theirs[key] ?? .null) {
                return false
            }
        }
        return true
    }

    /// Whether every agent condition of `ours` has a condition of its type in `theirs` with the
    /// same status, reason and message.
    static func conditionsMatch(_ ours: JSONValue, _ theirs: JSONValue?) -> Bool {
        let others = theirs?.arrayValue ?? []
        for c in ours.arrayValue ?? [] {
            guard let type = c["type"]?.stringValue, agentConditions.contains(type) else { continue }
            guard let other = others.first(where: { $0["type"]?.stringValue == type }) else { return false }
            for field in ["status", "reason", "message"] where normalized(c[field] ?? .null) != normalized(other[field] ?? .null) {
                return false
            }
        }
        return true
    }

    /// `status` with each condition's `lastTransitionTime` measured against `previous`: kept
    /// from there while the condition's status is the same, `now` when it changed, and as it is
    /// for a condition `previous` does not have. A condition's time moves only when its status does.
    static func withTransitionTimes(_ status: JSONValue, previous: JSONValue?, now: String) -> JSONValue {
        guard let old = previous?["conditions"]?.arrayValue, let new = status["conditions"]?.arrayValue else { return status }
        var result = status
        result["conditions"] = .array(new.map { c in
            guard let prev = old.first(where: { $0["type"] == c["type"] }) else { return c }
            var timed = c
            if prev["status"] != c["status"] {
                timed["lastTransitionTime"] = .string(now)
            } else if let time = prev["lastTransitionTime"], !time.isNull {
                timed["lastTransitionTime"] = time
            }
            return timed
        })
        return result
    }

    /// A value as compared: nulls and empty objects dropped, container status lists in name order.
    static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o {
                let n = normalized(v)
                if n.isNull { continue }
                if case .object(let inner) = n, inner.isEmpty { continue }
                out[k] = n
            }
            return out.isEmpty ? .null : .object(out)
        case .array(let a):
            let items = a.map(normalized)
            guard items.allSatisfy({ $0["name"]?.stringValue != nil }) else { return .array(items) }
            return .array(items.sorted { ($0["name"]?.stringValue ?? "") < ($1["name"]?.stringValue ?? "") })
        default:
            return value
        }
    }
}
