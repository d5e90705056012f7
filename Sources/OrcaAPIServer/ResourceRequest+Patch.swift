import Foundation
import Hummingbird
import OrcaAPI

extension ResourceRequest {
    /// `PATCH`: JSON patch, merge patch, strategic merge patch or server-side apply.
    func patch(_ r: ResourceType, _ ns: String?, _ name: String, _ sub: String?) async throws -> Response {
        let contentType = (request.headers[.contentType] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let patch = try await body()
        let definition = OpenAPISchema.definitionName(apiVersion: r.apiVersion, kind: r.kind)
        let apply: @Sendable (JSONValue) throws -> JSONValue
        switch contentType {
        case "application/json-patch+json":
            apply = { cur in
                do { return try JSONPatch.apply(patch, to: cur) } catch let e as OrcaError {
                    throw e.code == .badRequest ? APIError.badRequest(e.message) : APIError(code: 422, reason: "Invalid", message: e.message)
                }
            }
        case "application/merge-patch+json":
            apply = { cur in MergePatch.apply(patch, to: cur) }
        case "application/strategic-merge-patch+json":
            apply = { cur in
                do { return try StrategicMergePatch.apply(patch, to: cur, definition: definition) } catch let e as OrcaError {
                    throw APIError.badRequest(e.message)
                }
            }
        case "application/apply-patch+yaml", "application/apply-patch+cbor":
            return try await serverSideApply(r, ns, name, sub, patch, definition: definition)
        default:
            throw APIError.unsupportedMediaType(contentType)
        }
        if sub == "scale" {
            let current = try await registry.get(r, namespace: ns, name: name)
            let scale = try apply(try ScaleSubresource.scale(of: current, r))
            let obj = try await ScaleSubresource.write(registry, r, ns, name, replicas: scale[path: ["spec", "replicas"]], resourceVersion: nil)
            return APIHandler.json(try ScaleSubresource.scale(of: obj, r))
        }
        let obj = try await registry.guaranteedUpdate(r, namespace: ns, name: name, subresource: sub, dryRun: dryRun) { cur in
            var next = try apply(cur)
            if next.objectValue == nil { throw APIError.badRequest("the patch did not produce an object") }
            next[path: ["metadata", "resourceVersion"]] = cur[path: ["metadata", "resourceVersion"]]
            if let rv = patch[path: ["metadata", "resourceVersion"]]?.stringValue, rv != cur.resourceVersion {
                throw APIError.conflict(r, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            return next
        }
        return respondObject(r, obj)
    }

    /// Server-side apply: creates the object if missing, otherwise merges the applied
    /// configuration into it and records the manager in `managedFields`.
    func serverSideApply(_ r: ResourceType, _ ns: String?, _ name: String, _ sub: String?, _ applied: JSONValue,
                         definition: String?) async throws -> Response {
        guard let manager = query["fieldManager"], !manager.isEmpty else {
            throw APIError.badRequest("fieldManager is required for apply requests")
        }
        let now = ObjectMetaRules.timestamp(registry.clock())
        let entry: JSONValue = ["manager": .string(manager), "operation": "Apply", "apiVersion": .string(r.apiVersion),
                                "time": .string(now), "fieldsType": "FieldsV1",
                                "fieldsV1": ManagedFields.fieldSet(applied)]
        if let existing = try? await registry.get(r, namespace: ns, name: name) {
            _ = existing
            let force = query["force"] == "true"
            let obj = try await registry.guaranteedUpdate(r, namespace: ns, name: name, subresource: sub, dryRun: dryRun) { cur in
                try ManagedFields.checkConflicts(cur, applied: applied, manager: manager, force: force, resource: r, name: name)
                var next = try StrategicMergePatch.apply(ManagedFields.stripMeta(applied), to: cur, definition: definition)
                next[path: ["metadata", "managedFields"]] = ManagedFields.record(cur, entry: entry, manager: manager)
                next[path: ["metadata", "resourceVersion"]] = cur[path: ["metadata", "resourceVersion"]]
                return next
            }
            return respondObject(r, obj)
        }
        var obj = applied
        obj.metadataName = name
        obj[path: ["metadata", "managedFields"]] = [entry]
        let created = try await registry.create(r, namespace: ns, object: obj, dryRun: dryRun)
        return respondObject(r, created, status: 201)
    }
}
