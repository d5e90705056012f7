import Foundation
import OrcaAPI

/// Converts custom resources between the versions of their definition (apiextensions-apiserver's
/// `crConverter`): objects are stored in the storage version and served in the version asked
/// for. `None` only rewrites `apiVersion`; `Webhook` sends the objects to the definition's
/// conversion webhook in one `ConversionReview` and checks what comes back. Converted objects
/// are pruned and defaulted by the schema of the version they were converted to.
struct CustomResourceConverter: Sendable {
    let custom: CustomResource
    let registry: Registry

    /// The longest a conversion webhook may take (kube-apiserver's fixed 30 s).
    static let webhookTimeoutSeconds = 30

    /// `objects` in `version` (`v2`); objects already in it are returned unchanged.
    func convert(_ objects: [JSONValue], to version: String) async throws -> [JSONValue] {
        let desired = "\(custom.group)/\(version)"
        let pending = objects.indices.filter { objects[$0].apiVersion != desired }
        guard !pending.isEmpty else { return objects }
        var out = objects
        switch custom.conversion {
        case .none:
            for i in pending { out[i]["apiVersion"] = .string(desired) }
        case .webhook(let clientConfig, let reviewVersions):
            let converted = try await callWebhook(pending.map { objects[$0] }, desired: desired,
                                                  clientConfig: clientConfig, reviewVersions: reviewVersions)
            for (i, object) in zip(pending, converted) { out[i] = object }
        }
        if let schema = custom.versions[version]?.schema {
            for i in pending {
                schema.prune(&out[i])
                schema.applyDefaults(&out[i])
            }
        }
        return out
    }

    /// `object` in the version objects are stored in.
    func toStorage(_ object: JSONValue) async throws -> JSONValue {
        try await convert([object], to: custom.storageVersion)[0]
    }

    /// One ConversionReview round trip (kube's `webhookConverter.Convert`), in the first
    /// review version the webhook accepts that Orca speaks.
    private func callWebhook(_ objects: [JSONValue], desired: String, clientConfig: AdmissionregistrationV1WebhookClientConfig,
                             reviewVersions: [String]) async throws -> [JSONValue] {
        let failed = "conversion webhook for \(objects[0].apiVersion ?? ""), Kind=\(custom.kind) failed"
        guard let reviewVersion = reviewVersions.first(where: { $0 == "v1" || $0 == "v1beta1" }) else {
            throw APIError.internalError("\(failed): no supported conversionReviewVersions in \(reviewVersions)")
        }
        let uid = UUID().uuidString.lowercased()
        let review: JSONValue = [
            "apiVersion": .string("apiextensions.k8s.io/\(reviewVersion)"), "kind": "ConversionReview",
            "request": ["uid": .string(uid), "desiredAPIVersion": .string(desired), "objects": .array(objects)],
        ]
        let answer: JSONValue
        do {
            answer = try await WebhookClient().post(review, to: clientConfig, timeoutSeconds: Self.webhookTimeoutSeconds, registry: registry)
        } catch {
            let reason = error.reason.hasPrefix("failed to call webhook: ") ? String(error.reason.dropFirst(24)) : error.reason
            throw APIError.internalError("\(failed): \(reason)")
        }
        return try Self.converted(answer, uid: uid, desired: desired, originals: objects, failed: failed)
    }

    /// The objects of a ConversionReview answer, checked as kube checks them: the request's
    /// uid, a `Success` result, one object per object sent, each of the desired apiVersion and
    /// the same kind. Only labels and annotations of the metadata may change; the rest is
    /// taken from the object sent (kube's `restoreObjectMeta`).
    static func converted(_ answer: JSONValue, uid: String, desired: String, originals: [JSONValue],
                          failed: String) throws -> [JSONValue] {
        guard answer.kind == "ConversionReview", let response = answer["response"], response.objectValue != nil else {
            throw APIError.internalError("\(failed): the answer is not a ConversionReview with a response")
        }
        guard response["uid"]?.stringValue == uid else {
            throw APIError.internalError("\(failed): expected response uid \(GoFormat.quote(uid)), got \(GoFormat.quote(response["uid"]?.stringValue ?? ""))")
        }
        if response[path: ["result", "status"]]?.stringValue != "Success" {
            throw APIError.internalError("\(failed): \(response[path: ["result", "message"]]?.stringValue ?? "the webhook did not report success")")
        }
        let objects = response["convertedObjects"]?.arrayValue ?? []
        guard objects.count == originals.count else {
            throw APIError.internalError("\(failed): expected \(originals.count) converted objects, got \(objects.count)")
        }
        return try zip(objects, originals).enumerated().map { i, pair in
            var object = pair.0
            let original = pair.1
            guard object.objectValue != nil else {
                throw APIError.internalError("\(failed): invalid converted object at index \(i): not an object")
            }
            guard object.apiVersion == desired else {
                throw APIError.internalError("\(failed): invalid converted object at index \(i): invalid apiVersion \(GoFormat.quote(object.apiVersion ?? "")), expected \(GoFormat.quote(desired))")
            }
            guard object.kind == original.kind else {
                throw APIError.internalError("\(failed): invalid converted object at index \(i): invalid kind \(GoFormat.quote(object.kind ?? "")), expected \(GoFormat.quote(original.kind ?? ""))")
            }
            var metadata = original["metadata"] ?? [:]
            for field in ["labels", "annotations"] {
                let value = object[path: ["metadata", field]]
                if let value, value != .null, value.objectValue?.values.contains(where: { $0.stringValue == nil }) ?? true {
                    throw APIError.internalError("\(failed): invalid converted object at index \(i): invalid metadata.\(field): must be a map of strings")
                }
                metadata[field] = value
            }
            object["metadata"] = metadata
            return object
        }
    }
}
