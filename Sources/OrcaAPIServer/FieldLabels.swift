import OrcaAPI

/// The fields each resource can be selected by (`?fieldSelector=`), as Kubernetes registers
/// them with `AddFieldLabelConversionFunc` and its registries' `GetAttrs`. Every built-in resource
/// supports `metadata.name` and `metadata.namespace` (a custom resource: see `labels(of:_:)`);
/// any other field is a 400 BadRequest ("field label not supported"), so a typo never silently
/// selects everything or nothing.
enum FieldLabels {
    static let common: Set<String> = ["metadata.name", "metadata.namespace"]

    /// Extra field labels by (group, resource).
    static let byResource: [String: Set<String>] = [
        "/pods": ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                  "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"],
        "/nodes": ["spec.unschedulable"],
        "/namespaces": ["status.phase"],
        "/secrets": ["type"],
        "/services": ["spec.clusterIP", "spec.type"],
        "/replicationcontrollers": ["status.replicas"],
        "/events": ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                    "reason", "reportingComponent", "source", "type"],
        "apps/replicasets": ["status.replicas"],
        "batch/jobs": ["status.successful"],
        "certificates.k8s.io/certificatesigningrequests": ["spec.signerName"],
    ]

    /// The field labels `r` supports; with `served`, a custom resource's are those of `labels(of:_:)`.
    static func supported(_ r: ResourceType, served: ServedResources? = nil) -> Set<String> {
        if let custom = served?.customResource(r) { return labels(of: custom, r) }
        return common.union(byResource["\(r.group)/\(r.resource)"] ?? [])
    }

    /// The field labels of a custom resource, as apiextensions-apiserver converts them:
    /// `metadata.name`, `metadata.namespace` when it is namespaced, and the `selectableFields` of
    /// `r`'s version without the leading dot (`.spec.color` is `spec.color`). A selector reads such
    /// a field at that path; a missing value reads as "", an integer or boolean as printed.
    static func labels(of custom: CustomResource, _ r: ResourceType) -> Set<String> {
        var labels: Set<String> = custom.namespaced ? common : ["metadata.name"]
        for path in custom.version(r)?.selectableFields ?? [] {
            labels.insert(path.hasPrefix(".") ? String(path.dropFirst()) : path)
        }
        return labels
    }

    /// Throws 400 `BadRequest` for the first requirement of `selector` on a field `r` does not
    /// support (`field label not supported: spec.other`, the same words for custom resources).
    /// Pass `served` so that custom resources are known.
    static func check(_ selector: FieldMatcher, for r: ResourceType, served: ServedResources? = nil) throws {
        let labels = supported(r, served: served)
        if let bad = selector.requirements.first(where: { !labels.contains($0.field) }) {
            throw APIError.badRequest("field label not supported: \(bad.field)")
        }
    }
}
