import Foundation
import OrcaAPI

/// The `admission.k8s.io` AdmissionReview: the request a webhook is sent and the response it
/// must answer with (kube-apiserver's `CreateV1AdmissionReview` and `VerifyAdmissionResponse`).
/// `v1` is sent unless the webhook accepts only `v1beta1`, whose responses are checked less
/// (no uid or kind check, a patch is always a JSON patch), as kube does.
enum AdmissionReview {
    /// What a webhook answered, checked.
    struct Response: Sendable {
        var allowed: Bool
        /// `response.status` (a `Status` without `kind`): why it refused.
        var status: JSONValue?
        /// The decoded JSON patch (an array of operations), if the webhook sent one.
        var patch: JSONValue?
        var warnings: [String]
    }

    /// The AdmissionReview version to send `hook`: the first it lists that the server speaks.
    static func version(for hook: AdmissionWebhook) -> String? {
        hook.admissionReviewVersions.first { $0 == "v1" || $0 == "v1beta1" }
    }

    /// The request body for a call of `invocation` about `a`, whose objects are in the
    /// invocation's version already (converted by the caller for an equivalent version).
    static func request(uid: String, version: String, invocation: WebhookMatcher.Invocation,
                        attributes a: AdmissionAttributes) -> JSONValue {
        let resource = invocation.resource
        var request: [String: JSONValue] = [
            "uid": .string(uid),
            "kind": groupVersionKind(of: resource, subresource: invocation.subresource, object: a.object ?? a.oldObject),
            "resource": ["group": .string(resource.group), "version": .string(resource.version), "resource": .string(resource.resource)],
            "requestKind": groupVersionKind(of: a.resource, subresource: a.subresource, object: a.object ?? a.oldObject),
            "requestResource": ["group": .string(a.resource.group), "version": .string(a.resource.version), "resource": .string(a.resource.resource)],
            "operation": .string(a.operation.rawValue),
            "userInfo": userInfo(a.user),
            "object": a.object ?? .null,
            "oldObject": a.oldObject ?? .null,
            "dryRun": .bool(a.dryRun),
        ]
        if let sub = invocation.subresource { request["subResource"] = .string(sub) }
        if let sub = a.subresource { request["requestSubResource"] = .string(sub) }
        let name = a.name.isEmpty ? (a.object?.metadataName ?? "") : a.name
        if !name.isEmpty { request["name"] = .string(name) }
        // kube sends a Namespace's own name as the namespace of requests about it.
        let isNamespace = a.resource.group.isEmpty && a.resource.resource == "namespaces"
        if let namespace = isNamespace ? name : a.namespace, !namespace.isEmpty { request["namespace"] = .string(namespace) }
        if let options = options(a) { request["options"] = options }
        return ["apiVersion": .string("admission.k8s.io/\(version)"), "kind": "AdmissionReview", "request": .object(request)]
    }

    /// The kind of the object a request carries: the resource's, or for subresources with their
    /// own kind (`scale`, `binding`, `eviction`) the body's.
    static func groupVersionKind(of r: ResourceType, subresource: String?, object: JSONValue?) -> JSONValue {
        var (group, version, kind) = (r.group, r.version, r.kind)
        if subresource != nil, let apiVersion = object?.apiVersion, let objectKind = object?.kind,
           apiVersion != r.apiVersion || objectKind != r.kind {
            let parts = apiVersion.split(separator: "/", maxSplits: 1).map(String.init)
            (group, version, kind) = parts.count == 2 ? (parts[0], parts[1], objectKind) : ("", parts.first ?? "", objectKind)
        }
        return ["group": .string(group), "version": .string(version), "kind": .string(kind)]
    }

    /// `userInfo`; the API server's own writes are made as `system:apiserver` (its loopback identity).
    static func userInfo(_ user: UserInfo?) -> JSONValue {
        guard let user else { return ["username": "system:apiserver", "groups": ["system:authenticated", "system:masters"]] }
        return user.json
    }

    /// `CreateOptions`, `UpdateOptions` or `DeleteOptions` as kube passes them.
    static func options(_ a: AdmissionAttributes) -> JSONValue? {
        let kind: String
        switch a.operation {
        case .create: kind = "CreateOptions"
        case .update: kind = "UpdateOptions"
        case .delete: kind = "DeleteOptions"
        case .connect: return nil
        }
        var options: JSONValue = ["apiVersion": "meta.k8s.io/v1", "kind": .string(kind)]
        if a.dryRun { options["dryRun"] = ["All"] }
        return options
    }

    /// Checks a webhook's answer to the request with `uid`: the same uid (v1), `response`
    /// present, patches only from mutating webhooks and with their type. The text of a thrown
    /// error follows kube's `received invalid webhook response: …`.
    static func response(_ body: JSONValue, uid: String, version: String, mutating: Bool) throws(WebhookClient.CallError) -> Response {
        func invalid(_ why: String) -> WebhookClient.CallError { WebhookClient.CallError("received invalid webhook response: \(why)") }
        guard let response = body["response"], response.objectValue != nil else { throw invalid("webhook response was absent") }
        var patchText = response["patch"]?.stringValue ?? ""
        var patchType = response["patchType"].flatMap { $0.isNull ? nil : $0 }?.stringValue
        if version == "v1" {
            let got = response["uid"]?.stringValue ?? ""
            if got != uid { throw invalid("expected response.uid=\(GoFormat.quote(uid)), got \(GoFormat.quote(got))") }
            let apiVersion = body.apiVersion ?? "", kind = body.kind ?? ""
            if apiVersion != "admission.k8s.io/v1" || kind != "AdmissionReview" {
                let gv = apiVersion.contains("/") ? apiVersion : "/\(apiVersion)"
                throw invalid("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got \(gv), Kind=\(kind)")
            }
            if mutating {
                if !patchText.isEmpty, patchType == nil { throw invalid("webhook returned response.patch but not response.patchType") }
                if patchText.isEmpty, patchType != nil { throw invalid("webhook returned response.patchType but not response.patch") }
                if let type = patchType, type.isEmpty { throw invalid("webhook returned invalid response.patchType of \"\"") }
            } else {
                if !patchText.isEmpty { throw invalid("validating webhook may not return response.patch") }
                if patchType != nil { throw invalid("validating webhook may not return response.patchType") }
            }
        } else if mutating {
            patchType = patchText.isEmpty ? nil : "JSONPatch"
        } else {
            patchText = ""
        }
        var patch: JSONValue?
        if mutating, !patchText.isEmpty {
            guard let data = Data(base64Encoded: patchText) else {
                throw WebhookClient.CallError("received undecodable patch in webhook response: illegal base64 data")
            }
            do { patch = try JSONValue.parse(Array(data)) } catch {
                throw WebhookClient.CallError("received undecodable patch in webhook response: \(error)")
            }
            if let type = patchType, type != "JSONPatch" {
                throw WebhookClient.CallError("unsupported patch type \(GoFormat.quote(type))")
            }
            guard patch?.arrayValue != nil else {
                throw WebhookClient.CallError("received undecodable patch in webhook response: json: cannot unmarshal into Go value of type jsonpatch.Patch")
            }
        }
        let status = response["status"].flatMap { $0.objectValue != nil ? $0 : nil }
        return Response(allowed: response["allowed"]?.boolValue ?? false, status: status, patch: patch,
                        warnings: response["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}
