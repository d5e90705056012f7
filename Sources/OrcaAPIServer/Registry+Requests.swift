import Foundation
import OrcaAPI

/// The writes of the REST API with the semantics of a request that sets no options: what the
/// in-process client calls, so that components inside `orca server` see exactly what a client
/// over HTTPS sees — unknown fields pruned (`fieldValidation` Warn), the strategy's defaulting
/// and validation, and a `metadata.resourceVersion` in a patch taken as a precondition.
extension Registry {
    /// `POST` of `object`.
    public func createRequest(_ r: ResourceType, namespace: String?, object: JSONValue, user: UserInfo? = nil) async throws -> JSONValue {
        var body = object
        _ = try FieldValidation(.warn).check(body: &body, r)
        return try await create(r, namespace: namespace, object: body, user: user)
    }

    /// `PUT` of `object` (the main resource or `status`).
    public func updateRequest(_ r: ResourceType, namespace: String?, name: String, object: JSONValue,
                              subresource: String?) async throws -> JSONValue {
        var body = object
        _ = try FieldValidation(.warn).check(body: &body, r)
        return try await update(r, namespace: namespace, name: name, object: body, subresource: subresource)
    }

    /// `PATCH` with a JSON merge patch.
    public func mergePatchRequest(_ r: ResourceType, namespace: String?, name: String, patch: JSONValue,
                                  subresource: String?) async throws -> JSONValue {
        try await guaranteedUpdate(r, namespace: namespace, name: name, subresource: subresource) { cur in
            var next = MergePatch.apply(patch, to: cur)
            _ = try Self.checkPatched(&next, current: cur, patch: patch, validation: FieldValidation(.warn), strategic: false, r, name: name)
            return next
        }
    }

    /// What every patch does to its result (`PATCH` of any type): it must be an object; unknown
    /// fields are pruned and reported per `validation`; the stored `resourceVersion` is kept, and
    /// one in the patch must match it (409 otherwise). Returns the warnings.
    static func checkPatched(_ next: inout JSONValue, current cur: JSONValue, patch: JSONValue, validation: FieldValidation,
                             strategic: Bool, _ r: ResourceType, name: String) throws -> [String] {
        if next.objectValue == nil { throw APIError.badRequest("the patch did not produce an object") }
        let warnings = try validation.check(patched: &next, current: cur, patch: patch, strategic: strategic, r)
        next[path: ["metadata", "resourceVersion"]] = cur[path: ["metadata", "resourceVersion"]]
        if let rv = patch[path: ["metadata", "resourceVersion"]]?.stringValue, rv != cur.resourceVersion {
            throw APIError.conflict(r, name, "the object has been modified; please apply your changes to the latest version and try again")
        }
        return warnings
    }
}
