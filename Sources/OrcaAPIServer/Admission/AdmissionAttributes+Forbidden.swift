import OrcaAPI

extension AdmissionAttributes {
    /// An admission refusal as kube's `admission.NewForbidden` words it:
    /// `<resource> "<name>" is forbidden: <why>`, named after the object (its `generateName`
    /// before a name is made, `Unknown` without either).
    func forbidden(_ message: String) -> APIError {
        var shown = name
        if shown.isEmpty { shown = object?.metadataName ?? "" }
        if shown.isEmpty { shown = object?[path: ["metadata", "generateName"]]?.stringValue ?? "" }
        if shown.isEmpty { shown = "Unknown" }
        return APIError(code: 403, reason: "Forbidden", message: "\(resource.groupResource) \"\(shown)\" is forbidden: \(message)",
                        details: APIError.details(resource, shown))
    }

    /// Whether the request is about core/v1 `resource` itself (no subresource).
    func isCore(_ plural: String) -> Bool {
        resource.group.isEmpty && resource.resource == plural && subresource == nil
    }
}
