import Foundation
import OrcaAPI

/// A small model of server-side apply field ownership: `fieldsV1` sets of the fields a
/// manager applied, used to record `managedFields` and detect conflicts with other appliers.
enum ManagedFields {
    /// The `FieldsV1` set (`{"f:spec": {"f:replicas": {}}}`) of an applied object of `schema`.
    /// Items of lists the schema merges are fields of their own, as in kube: an object item by
    /// its keys (`k:{"name":"web"}`), a value of a set by itself (`v:"a"`).
    static func fieldSet(_ v: JSONValue, schema: (any MergeSchema)? = nil) -> JSONValue {
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
            let field = schema?.mergeField(k)
            switch child {
            case .object:
                out["f:\(k)"] = fieldSet(child, schema: field?.schema)
            case .array(let items) where field?.mergesList == true:
                var set: [String: JSONValue] = [:]
                for item in items {
                    if let keys = field?.mergeKeys, !keys.isEmpty, item.objectValue != nil {
                        set[keyElement(item, keys)] = fieldSet(item, schema: field?.schema)
                    } else {
                        set["v:" + String(decoding: item.encoded(), as: UTF8.self)] = [:]
                    }
                }
                out["f:\(k)"] = .object(set)
            default:
                out["f:\(k)"] = [:]
            }
        }
        return .object(out)
    }

    /// The path element of a list item by its keys: `k:{"name":"web","protocol":"TCP"}`.
    static func keyElement(_ item: JSONValue, _ keys: [String]) -> String {
        var key: [String: JSONValue] = [:]
        for k in keys { key[k] = item[k] }
        return "k:" + String(decoding: JSONValue.object(key).encoded(), as: UTF8.self)
    }

    /// The leaf paths of a fieldsV1 set.
    static func leaves(_ set: JSONValue, prefix: [String] = []) -> [[String]] {
        guard case .object(let o) = set, !o.isEmpty else { return [prefix] }
        return o.flatMap { leaves($0.value, prefix: prefix + [$0.key]) }
    }

    /// The value at a fieldsV1 path in `obj`: fields by name, list items by their keys, set
    /// values by themselves; nil when it is not there.
    static func value(_ obj: JSONValue, _ path: [String]) -> JSONValue? {
        var cur: JSONValue? = obj
        for p in path {
            let element = String(p.dropFirst(2))
            if p.hasPrefix("k:") {
                guard let key = try? JSONValue.parse(element), let fields = key.objectValue else { return nil }
                cur = cur?.arrayValue?.first { item in fields.allSatisfy { item[$0.key] == $0.value } }
            } else if p.hasPrefix("v:") {
                guard let wanted = try? JSONValue.parse(element) else { return nil }
                cur = cur?.arrayValue?.contains(wanted) == true ? wanted : nil
            } else if p != "." {
                cur = cur?[element]
            }
        }
        return cur
    }

    /// A fieldsV1 path as kube prints it in conflicts: `.spec.listeners[name="web"].port`.
    static func display(_ path: [String]) -> String {
        path.map { p -> String in
            let element = String(p.dropFirst(2))
            if p.hasPrefix("k:"), let key = try? JSONValue.parse(element), let fields = key.objectValue {
                let pairs = fields.keys.sorted().map { "\($0)=\(String(decoding: fields[$0]!.encoded(), as: UTF8.self))" }
                return "[" + pairs.joined(separator: ",") + "]"
            }
            if p.hasPrefix("v:") { return "[=\(element)]" }
            return p == "." ? "" : "." + element
        }.joined()
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
            "conflict with \"\(conflict.manager)\": \(display(conflict.path))"
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
