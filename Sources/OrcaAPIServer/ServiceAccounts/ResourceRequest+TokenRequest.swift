import Foundation
import Hummingbird
import OrcaAPI

extension ResourceRequest {
    /// `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token` (`kubectl create token`):
    /// a bound token for the ServiceAccount, 201 with the `TokenRequest` and its status.
    func createToken(_ serviceAccounts: ResourceType, namespace: String, name: String) async throws -> Response {
        guard let tokens = handler.serviceAccountTokens else {
            throw APIError.methodNotAllowed("this server does not issue ServiceAccount tokens")
        }
        var body = try await body()
        if body.apiVersion == nil { body["apiVersion"] = "authentication.k8s.io/v1" }
        if body.kind == nil { body["kind"] = "TokenRequest" }
        let request: AuthenticationV1TokenRequest
        do {
            request = try body.decode(AuthenticationV1TokenRequest.self)
        } catch {
            throw APIError.badRequest("the body is not a TokenRequest: \(error)")
        }
        try await registry.admission.validate(
            AdmissionAttributes(resource: serviceAccounts, subresource: "token", operation: .create, namespace: namespace,
                                name: name, object: body, user: context.user, dryRun: dryRun),
            registry: registry)
        let issued = try await tokens.issuer.issue(namespace: namespace, serviceAccountName: name, request: request, registry: registry)
        return APIHandler.json(try JSONValue(encoding: issued), status: 201)
    }
}
