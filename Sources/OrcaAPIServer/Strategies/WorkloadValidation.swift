import Foundation
import OrcaAPI

/// Validation shared by the workload kinds (Kubernetes' `apps/validation` helpers): label
/// selectors, pod templates, counts and int-or-percent values.
enum WorkloadValidation {
    static let selectorMismatch = "`selector` does not match template `labels`"

    /// `ValidateLabelSelector`: operators and their values, and the `matchLabels` syntax.
    static func validateSelector(_ selector: JSONValue?, path: String) -> [StatusCause] {
        guard let selector, selector.objectValue != nil else { return [] }
        var causes = validateLabels(selector["matchLabels"], path: "\(path).matchLabels")
        for (i, e) in (selector["matchExpressions"]?.arrayValue ?? []).enumerated() {
            let p = "\(path).matchExpressions[\(i)]"
            let op = e["operator"]?.stringValue ?? ""
            let values = e["values"]?.arrayValue ?? []
            switch op {
            case "In", "NotIn":
                if values.isEmpty { causes.append(.required("\(p).values", "Required value: must be specified when `operator` is 'In' or 'NotIn'")) }
            case "Exists", "DoesNotExist":
                if !values.isEmpty { causes.append(.forbidden("\(p).values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")) }
            default:
                causes.append(.invalid("\(p).operator", op, "not a valid selector operator"))
            }
            if (e["key"]?.stringValue ?? "").isEmpty { causes.append(.invalid("\(p).key", "", "name part must be non-empty")) }
        }
        return causes
    }

    /// Label keys and values (`ValidateLabels`) under `path`.
    static func validateLabels(_ labels: JSONValue?, path: String) -> [StatusCause] {
        guard let labels, labels.objectValue != nil else { return [] }
        let probe: JSONValue = ["metadata": ["name": "probe", "labels": labels]]
        let prefix = "metadata.labels"
        return ObjectMetaRules.validate(probe, resource: ResourceType("", "v1", "ConfigMap", "configmaps"))
            .filter { $0.field == prefix }
            .map { StatusCause($0.reason, field: path, path + $0.message.dropFirst(prefix.count)) }
    }

    /// True if a `metav1.LabelSelector` selects `labels`; a missing selector selects nothing,
    /// an empty one everything (`LabelSelectorAsSelector`).
    static func selects(_ selector: JSONValue?, _ labels: JSONValue?) -> Bool {
        guard let selector, selector.objectValue != nil, let matcher = try? LabelMatcher(object: selector) else { return false }
        let set = (labels?.objectValue ?? [:]).compactMapValues(\.stringValue)
        return matcher.matches(set)
    }

    static func isEmptySelector(_ selector: JSONValue?) -> Bool {
        (selector?["matchLabels"]?.objectValue ?? [:]).isEmpty && (selector?["matchExpressions"]?.arrayValue ?? []).isEmpty
    }

    /// `spec.selector` required, not empty, well-formed and selecting the template's labels;
    /// `kind` names the resource in the empty-selector message (`deployment`).
    static func validateSelectorAndTemplate(_ spec: JSONValue?, kind: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        let selector = spec?["selector"].flatMap { $0.isNull ? nil : $0 }
        let labels = spec?[path: ["template", "metadata", "labels"]]
        guard let selector else {
            return [.required("spec.selector"),
                    .invalidValue("spec.template.metadata.labels", rendered: GoFormat.stringMap(labels), selectorMismatch)]
        }
        causes += validateSelector(selector, path: "spec.selector")
        if isEmptySelector(selector) {
            causes.append(.invalidValue("spec.selector", rendered: GoFormat.labelSelector(selector), "empty selector is invalid for \(kind)"))
        } else if (try? LabelMatcher(object: selector)) == nil {
            causes.append(.invalidValue("spec.selector", rendered: GoFormat.labelSelector(selector), "invalid label selector"))
        } else if !selects(selector, labels) {
            causes.append(.invalidValue("spec.template.metadata.labels", rendered: GoFormat.stringMap(labels), selectorMismatch))
        }
        return causes
    }

    /// `ValidatePodTemplateSpec` at `path` (`spec.template`), plus the restart policies the
    /// owning kind allows (nil: any).
    static func validateTemplate(_ template: JSONValue?, path: String, restartPolicies: [String]?, kind: String? = nil) -> [StatusCause] {
        var causes = validateLabels(template?[path: ["metadata", "labels"]], path: "\(path).labels")
        let spec = template?["spec"] ?? .null
        causes += PodValidation.validateSpec(spec, path: "\(path).spec")
        if let restartPolicies {
            let policy = spec["restartPolicy"]?.stringValue ?? ""
            if !restartPolicies.contains(policy) {
                causes.append(.notSupported("\(path).spec.restartPolicy", policy, restartPolicies))
            }
        }
        if let kind, spec["activeDeadlineSeconds"] != nil, spec["activeDeadlineSeconds"]?.isNull == false {
            causes.append(.forbidden("\(path).spec.activeDeadlineSeconds", "activeDeadlineSeconds in \(kind) is not Supported"))
        }
        return causes
    }

    /// A StatefulSet's template with a volume for each of its `volumeClaimTemplates` (the
    /// claims each pod gets), so mounts of a claim validate as mounts of a volume.
    static func withClaimVolumes(_ spec: JSONValue?) -> JSONValue? {
        guard var template = spec?["template"], let claims = spec?["volumeClaimTemplates"]?.arrayValue, !claims.isEmpty else {
            return spec?["template"]
        }
        var volumes = template[path: ["spec", "volumes"]]?.arrayValue ?? []
        let present = Set(volumes.compactMap { $0["name"]?.stringValue })
        for claim in claims {
            guard let name = claim[path: ["metadata", "name"]]?.stringValue, !present.contains(name) else { continue }
            volumes.append(["name": .string(name), "persistentVolumeClaim": ["claimName": .string(name)]])
        }
        template[path: ["spec", "volumes"]] = .array(volumes)
        return template
    }

    /// `ValidateNonnegativeField` (absent is fine).
    static func nonNegative(_ value: JSONValue?, _ field: String) -> [StatusCause] {
        guard let n = value?.intValue, n < 0 else { return [] }
        return [.invalid(field, number: n, "must be greater than or equal to 0")]
    }

    /// A positive count (`must be greater than 0`; absent is fine).
    static func positive(_ value: JSONValue?, _ field: String) -> [StatusCause] {
        guard let n = value?.intValue, n <= 0 else { return [] }
        return [.invalid(field, number: n, "must be greater than 0")]
    }

    /// `ValidatePositiveIntOrPercent` and, if asked, `IsNotMoreThan100Percent`.
    static func intOrPercent(_ value: JSONValue?, _ field: String, atMost100Percent: Bool = false) -> [StatusCause] {
        guard let value, !value.isNull else { return [] }
        if let n = value.intValue { return nonNegative(.int(n), field) }
        guard let s = value.stringValue else { return [] }
        let rendered = GoFormat.intOrString(value)
        guard let percent = percentValue(s) else {
            return [.invalidValue(field, rendered: rendered, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")]
        }
        if atMost100Percent, percent > 100 { return [.invalidValue(field, rendered: rendered, "must not be greater than 100%")] }
        return []
    }

    static func percentValue(_ s: String) -> Int? {
        guard s.hasSuffix("%"), s.count > 1, s.dropLast().allSatisfy(\.isASCII), s.dropLast().allSatisfy(\.isNumber) else { return nil }
        return Int(s.dropLast())
    }

    /// True if an int-or-percent is zero (`0` or `"0%"`).
    static func isZero(_ value: JSONValue?) -> Bool {
        if let n = value?.intValue { return n == 0 }
        if let s = value?.stringValue { return percentValue(s) == 0 }
        return false
    }

    /// `ValidateImmutableField` for a field whose value is rendered as Go would.
    static func immutable(_ new: JSONValue?, _ old: JSONValue?, _ field: String, rendered: (JSONValue?) -> String) -> [StatusCause] {
        let n = new?.isNull == true ? nil : new
        let o = old?.isNull == true ? nil : old
        if n == o { return [] }
        return [.invalidValue(field, rendered: rendered(n), "field is immutable")]
    }

    /// A string field limited to some values, required when `required`.
    static func oneOf(_ value: JSONValue?, _ field: String, _ allowed: [String], required: Bool = false) -> [StatusCause] {
        guard let s = value?.stringValue, !s.isEmpty else { return required ? [.required(field)] : [] }
        return allowed.contains(s) ? [] : [.notSupported(field, s, allowed)]
    }
}

extension GoFormat {
    /// `%#v` of an `intstr.IntOrString`.
    static func intOrString(_ v: JSONValue?) -> String {
        if let s = v?.stringValue { return "intstr.IntOrString{Type:1, IntVal:0, StrVal:\(quote(s))}" }
        return "intstr.IntOrString{Type:0, IntVal:\(v?.intValue ?? 0), StrVal:\"\"}"
    }

    /// `%#v` of a `metav1.LabelSelector` value.
    static func labelSelector(_ v: JSONValue?) -> String {
        let expressions: String
        if let list = v?["matchExpressions"]?.arrayValue {
            expressions = "[]v1.LabelSelectorRequirement{" + list.map { e in
                "v1.LabelSelectorRequirement{Key:\(quote(e["key"]?.stringValue ?? "")), Operator:\(quote(e["operator"]?.stringValue ?? "")), Values:\(stringSlice(e["values"]))}"
            }.joined(separator: ", ") + "}"
        } else {
            expressions = "[]v1.LabelSelectorRequirement(nil)"
        }
        return "v1.LabelSelector{MatchLabels:\(stringMap(v?["matchLabels"])), MatchExpressions:\(expressions)}"
    }
}
