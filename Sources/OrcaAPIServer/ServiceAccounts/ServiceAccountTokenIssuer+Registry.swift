import Foundation
import OrcaAPI
import OrcaCore

extension ServiceAccountTokenIssuer {
    /// `POST /api/v1/namespaces/<namespace>/serviceaccounts/<name>/token`: reads the
    /// ServiceAccount, the bound object and (for a pod on a node) the Node through `registry`,
    /// in kube's order, and issues the token at the registry's clock.
    ///
    /// Throws `APIError`: 422 for a body naming another ServiceAccount, 404 for a missing
    /// ServiceAccount or bound object, and the errors of `issue(serviceAccount:…)`.
    public func issue(namespace: String, serviceAccountName name: String, request: AuthenticationV1TokenRequest,
                      registry: Registry) async throws -> AuthenticationV1TokenRequest {
        try Self.checkMetadata(request, namespace: namespace, name: name)
        let now = registry.clock()
        let serviceAccount = try await read(registry, "serviceaccounts", namespace: namespace, name: name)
            .decode(ServiceAccount.self)
        // Validation (422) and the uid check (409) come before the bound object is read.
        _ = try prepared(request, serviceAccount: serviceAccount, now: now)

        var boundObject: JSONValue?
        var node: JSONValue?
        if let ref = request.spec?.boundObjectRef {
            let kind = try Self.boundKind(ref)
            let refName = ref.name ?? ""
            switch kind {
            case .pod:
                let pod = try await read(registry, "pods", namespace: namespace, name: refName)
                if let nodeName = pod[path: ["spec", "nodeName"]]?.stringValue, !nodeName.isEmpty {
                    // A missing Node still gives its name to the claim (kube does the same).
                    do {
                        node = try await read(registry, "nodes", namespace: nil, name: nodeName)
                    } catch let e as APIError where e.code == 404 {
                        node = nil
                    } catch {
                        throw APIError.internalError(String(describing: error))
                    }
                }
                boundObject = pod
            case .secret:
                boundObject = try await read(registry, "secrets", namespace: namespace, name: refName)
            case .node:
                boundObject = try await read(registry, "nodes", namespace: nil, name: refName)
            }
        }
        return try issue(serviceAccount: serviceAccount, request: request, boundObject: boundObject, node: node, now: now)
    }

    /// A core/v1 object through the registry (404 as the registry reports it).
    private func read(_ registry: Registry, _ resource: String, namespace: String?, name: String) async throws -> JSONValue {
        guard let r = registry.catalog.resource(group: "", version: "v1", resource: resource) else {
            throw APIError.internalError("\(resource) are not served")
        }
        return try await registry.get(r, namespace: namespace, name: name)
    }
}
