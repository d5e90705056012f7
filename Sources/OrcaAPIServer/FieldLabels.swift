import OrcaAPI

/// The fields each resource can be selected by (`?fieldSelector=`), as Kubernetes registers
/// them with `AddFieldLabelConversionFunc` and its registries' `GetAttrs`. Every resource
/// supports `metadata.name` and `metadata.namespace`; any other field is a 400 BadRequest
/// ("field label not supported"), so a typo never silently selects everything or nothing.
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

    /// The field labels `r` supports.
    static func supported(_ r: ResourceType) -> Set<String> {
        common.union(byResource["\(r.group)/\(r.resource)"] ?? [])
    }

    /// Throws 400 `BadRequest` for the first requirement of `selector` on a field `r` does not support.
    static func check(_ selector: FieldMatcher, for r: ResourceType) throws {
        let labels = supported(r)
        if let bad = selector.requirements.first(where: { !labels.contains($0.field) }) {
            throw APIError.badRequest("field label not supported: \(bad.field)")
        }
    }
}
