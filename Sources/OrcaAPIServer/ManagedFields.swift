import Foundation
import OrcaAPI

/// A small model of server-side apply field ownership: `fieldsV1` sets of the fields a
/// manager applied, used to record `managedFields` and detect conflicts with other appliers.
enum ManagedFields {
    /// The `FieldsV1` set (`{"f:spec": {"f:replicas": {}}}`) of an applied object.
    static func fieldSet(_ v: JSONValue) -> JSONValue {
        guard case .object(let o) = v else { return [:] }
        var out: [String: JSONValue] = [:]
        for (k, child) in o where k != "apiVersion" && k != "kind" {
            if k == "metadata" {
                var meta: [String: JSONValue] = [:]
                for (mk, mv) in child.objectValue ?? [:] where mk == "labels" || mk == "annotations" {
                    meta["f:\(mk)"] = fieldSet(mv)
                }
                if !meta.isEmpty { out["f:metadata"] = .object(meta) }
                continue
            }
            if case .object = child { out["f:\(k)"] = fieldSet(child) } else { out["f:\(k)"] = [:] }
        }
        return .object(out)
    }

    /// The leaf paths of a fieldsV1 set.
    static func leaves(_ set: JSONValue, prefix: [String] = []) -> [[String]] {
        guard case .object(let o) = set, !o.isEmpty else { return [prefix] }
        return o.flatMap { leaves($0.value, prefix: prefix + [$0.key]) }
    }

    static func value(_ obj: JSONValue, _ path: [String]) -> JSONValue? {
        var cur: JSONValue? = obj
        for p in path { cur = cur?[String(p.dropFirst(2))] }
        return cur
    }

    /// The fields another manager owns that this apply sets to a different value.
    static func conflictingPaths(_ current: JSONValue, applied: JSONValue, manager: String) -> [(manager: String, path: [String])] {
        var conflicts: [(manager: String, path: [String])] = []
        for entry in current[path: ["metadata", "managedFields"]]?.arrayValue ?? [] {
            guard let other = entry["manager"]?.stringValue, other != manager else { continue }
            for path in leaves(entry["fieldsV1"] ?? [:]) where !path.isEmpty {
                if let newValue = value(applied, path), let oldValue = value(current, path), newValue != oldValue {
                    conflicts.append((other, path))
                }
            }
        }
        return conflicts
    }

    /// Throws 409 Conflict if another manager owns a field this apply changes (unless `force`).
    static func checkConflicts(_ current: JSONValue, applied: JSONValue, manager: String, force: Bool,
                               resource: ResourceType, name: String) throws {
        if force { return }
        let conflicts = conflictingPaths(current, applied: applied, manager: manager).map { conflict in
            "conflict with \"\(conflict.manager)\": .\(conflict.path.map { String($0.dropFirst(2)) }.joined(separator: "."))"
        }
        if !conflicts.isEmpty {
            let causes: JSONValue = .array(conflicts.map { ["reason": "FieldManagerConflict", "message": .string($0)] })
            throw APIError(code: 409, reason: "Conflict",
                           message: "Apply failed with \(conflicts.count) conflict\(conflicts.count == 1 ? "" : "s"): \(conflicts.joined(separator: "; "))",
                           details: ["name": .string(name), "kind": .string(resource.resource), "causes": causes])
        }
    }

    /// `current` with the fields a forced apply takes over removed from their previous managers'
    /// `managedFields` entries (an entry left owning nothing is dropped), as Kubernetes does on
    /// `force: true`: ownership of conflicting fields moves to the applier.
    static func transferringConflicts(_ current: JSONValue, applied: JSONValue, manager: String) -> JSONValue {
        let conflicts = conflictingPaths(current, applied: applied, manager: manager)
        guard !conflicts.isEmpty else { return current }
        var entries = current[path: ["metadata", "managedFields"]]?.arrayValue ?? []
        for i in entries.indices {
            guard let owner = entries[i]["manager"]?.stringValue else { continue }
            var set = entries[i]["fieldsV1"] ?? [:]
            for conflict in conflicts where conflict.manager == owner {
                set = removing(conflict.path[...], from: set)
            }
            entries[i]["fieldsV1"] = set
        }
        entries.removeAll { ($0["fieldsV1"]?.objectValue ?? [:]).isEmpty }
        var result = current
        result[path: ["metadata", "managedFields"]] = .array(entries)
        return result
    }

    /// `set` without the field at `path`; parents emptied by the removal go too.
    static func removing(_ path: ArraySlice<String>, from set: JSONValue) -> JSONValue {
        guard let first = path.first, case .object(var o) = set, let child = o[first] else { return set }
        if path.count == 1 {
            o[first] = nil
        } else {
            let remaining = removing(path.dropFirst(), from: child)
            if (remaining.objectValue ?? [:]).isEmpty, !(child.objectValue ?? [:]).isEmpty {
                o[first] = nil
            } else {
                o[first] = remaining
            }
        }
        return .object(o)
    }

    /// managedFields with `entry` replacing the manager's previous Apply entry.
    static func record(_ current: JSONValue, entry: JSONValue, manager: String) -> JSONValue {
        var list = (current[path: ["metadata", "managedFields"]]?.arrayValue ?? []).filter {
            !($0["manager"]?.stringValue == manager && $0["operation"]?.stringValue == "Apply")
        }
        list.append(entry)
        return .array(list)
    }

    /// The applied object without server-owned metadata.
    static func stripMeta(_ applied: JSONValue) -> JSONValue {
        var a = applied
        for k in ["resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"] {
            a[path: ["metadata", k]] = nil
        }
        return a
    }
}
