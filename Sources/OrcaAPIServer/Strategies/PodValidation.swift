import Foundation
import OrcaAPI

/// Validation of pod specs (Kubernetes' `ValidatePodSpec`, the parts users hit).
enum PodValidation {
    static func validateSpec(_ spec: JSONValue, path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        let containers = spec["containers"]?.arrayValue ?? []
        if containers.isEmpty { causes.append(.required("\(path).containers")) }
        var names = Set<String>()
        var volumeNames = Set<String>()
        for (i, v) in (spec["volumes"]?.arrayValue ?? []).enumerated() {
            let name = v["name"]?.stringValue ?? ""
            let field = "\(path).volumes[\(i)].name"
            if name.isEmpty { causes.append(.required(field)) }
            else if !ObjectMetaRules.isDNS1123Label(name) { causes.append(.invalid(field, name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character")) }
            else if !volumeNames.insert(name).inserted { causes.append(.duplicate(field, name)) }
        }
        for (list, items) in [("initContainers", spec["initContainers"]?.arrayValue ?? []), ("containers", containers)] {
            for (i, c) in items.enumerated() {
                let p = "\(path).\(list)[\(i)]"
                let name = c["name"]?.stringValue ?? ""
                if name.isEmpty { causes.append(.required("\(p).name")) }
                else if !ObjectMetaRules.isDNS1123Label(name) {
                    causes.append(.invalid("\(p).name", name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"))
                } else if !names.insert(name).inserted { causes.append(.duplicate("\(p).name", name)) }
                if (c["image"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces).isEmpty { causes.append(.required("\(p).image")) }
                if let policy = c["imagePullPolicy"]?.stringValue, !["Always", "IfNotPresent", "Never"].contains(policy) {
                    causes.append(.notSupported("\(p).imagePullPolicy", policy, ["Always", "IfNotPresent", "Never"]))
                }
                for (j, port) in (c["ports"]?.arrayValue ?? []).enumerated() {
                    let n = port["containerPort"]?.intValue ?? 0
                    if n < 1 || n > 65535 { causes.append(.invalid("\(p).ports[\(j)].containerPort", number: n, "must be between 1 and 65535, inclusive")) }
                }
                for (j, m) in (c["volumeMounts"]?.arrayValue ?? []).enumerated() {
                    let vn = m["name"]?.stringValue ?? ""
                    if !volumeNames.contains(vn) { causes.append(StatusCause("FieldValueNotFound", field: "\(p).volumeMounts[\(j)].name", "\(p).volumeMounts[\(j)].name: Not found: \"\(vn)\"")) }
                    if (m["mountPath"]?.stringValue ?? "").isEmpty { causes.append(.required("\(p).volumeMounts[\(j)].mountPath")) }
                }
                for (j, e) in (c["env"]?.arrayValue ?? []).enumerated() where (e["name"]?.stringValue ?? "").isEmpty {
                    causes.append(.required("\(p).env[\(j)].name"))
                }
            }
        }
        if let rp = spec["restartPolicy"]?.stringValue, !["Always", "OnFailure", "Never"].contains(rp) {
            causes.append(.notSupported("\(path).restartPolicy", rp, ["Always", "OnFailure", "Never"]))
        }
        if let dp = spec["dnsPolicy"]?.stringValue, !["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"].contains(dp) {
            causes.append(.notSupported("\(path).dnsPolicy", dp, ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]))
        }
        causes += validateRanges(spec, path: path)
        return causes
    }

    /// Pod specs are immutable but for a few fields.
    static func validateUpdate(_ new: JSONValue, old: JSONValue) -> [StatusCause] {
        func mutablePart(_ spec: JSONValue?) -> JSONValue {
            guard var s = spec else { return .null }
            for k in ["activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "nodeName", "schedulingGates", "ephemeralContainers"] { s[k] = nil }
            for list in ["containers", "initContainers"] {
                if let cs = s[list]?.arrayValue { s[list] = .array(cs.map { var c = $0; c["image"] = nil; return c }) }
            }
            return s
        }
        var causes: [StatusCause] = []
        if mutablePart(new["spec"]) != mutablePart(old["spec"]) {
            causes.append(.forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"))
        }
        causes += validateEphemeralContainers(new["spec"] ?? .null, old: old["spec"] ?? .null)
        // activeDeadlineSeconds may be set or lowered, never raised or removed (kube's ValidatePodUpdate).
        let oldDeadline = old[path: ["spec", "activeDeadlineSeconds"]]?.intValue
        if let newDeadline = new[path: ["spec", "activeDeadlineSeconds"]]?.intValue {
            if let oldDeadline, oldDeadline < newDeadline {
                causes.append(.invalid("spec.activeDeadlineSeconds", number: newDeadline, "must be less than or equal to previous value"))
            }
        } else if oldDeadline != nil {
            causes.append(.invalid("spec.activeDeadlineSeconds", "null", "must not update from a positive integer to nil value"))
        }
        let oldNode = old[path: ["spec", "nodeName"]]?.stringValue ?? ""
        let newNode = new[path: ["spec", "nodeName"]]?.stringValue ?? ""
        if !oldNode.isEmpty, oldNode != newNode {
            causes.append(.forbidden("spec.nodeName", "field is immutable once set"))
        }
        return causes
    }

    /// Kubernetes' `ValidatePodEphemeralContainersUpdate`: ephemeral containers are only added,
    /// never changed or removed; a new one is a plain container without ports, probes, lifecycle
    /// hooks, resources or restart policy, and its target must be a container of the pod.
    static func validateEphemeralContainers(_ spec: JSONValue, old: JSONValue) -> [StatusCause] {
        let path = "spec.ephemeralContainers"
        let current = spec["ephemeralContainers"]?.arrayValue ?? []
        let previous = old["ephemeralContainers"]?.arrayValue ?? []
        var causes: [StatusCause] = []
        for prev in previous {
            let name = prev["name"]?.stringValue ?? ""
            guard let now = current.first(where: { $0["name"]?.stringValue == name }) else {
                causes.append(.forbidden(path, "existing ephemeral containers \"\(name)\" may not be removed"))
                continue
            }
            if now != prev { causes.append(.forbidden(path, "existing ephemeral containers \"\(name)\" may not be changed")) }
        }
        let regular = ((spec["containers"]?.arrayValue ?? []) + (spec["initContainers"]?.arrayValue ?? [])).compactMap { $0["name"]?.stringValue }
        var names = Set(regular)
        for (i, c) in current.enumerated() {
            let p = "\(path)[\(i)]"
            let name = c["name"]?.stringValue ?? ""
            let isNew = !previous.contains { $0["name"]?.stringValue == name }
            if name.isEmpty { causes.append(.required("\(p).name")) }
            else if !ObjectMetaRules.isDNS1123Label(name) {
                causes.append(.invalid("\(p).name", name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"))
            } else if !names.insert(name).inserted { causes.append(.duplicate("\(p).name", name)) }
            guard isNew else { continue }
            if (c["image"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces).isEmpty { causes.append(.required("\(p).image")) }
            if let policy = c["imagePullPolicy"]?.stringValue, !["Always", "IfNotPresent", "Never"].contains(policy) {
                causes.append(.notSupported("\(p).imagePullPolicy", policy, ["Always", "IfNotPresent", "Never"]))
            }
            for key in ["ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "restartPolicy"]
            where c[key] != nil && c[key]?.isNull == false {
                causes.append(.forbidden("\(p).\(key)", "cannot be set for an Ephemeral Container"))
            }
            if let res = c["resources"]?.objectValue, res.values.contains(where: { ($0.objectValue ?? [:]).isEmpty == false }) {
                causes.append(.forbidden("\(p).resources", "cannot be set for an Ephemeral Container"))
            }
            if let target = c["targetContainerName"]?.stringValue, !target.isEmpty, !regular.contains(target) {
                causes.append(StatusCause("FieldValueNotFound", field: "\(p).targetContainerName", "\(p).targetContainerName: Not found: \"\(target)\""))
            }
            for (j, e) in (c["env"]?.arrayValue ?? []).enumerated() where (e["name"]?.stringValue ?? "").isEmpty {
                causes.append(.required("\(p).env[\(j)].name"))
            }
        }
        return causes
    }

}
