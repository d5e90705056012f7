import Foundation
import Hummingbird
import OrcaAPI

extension ResourceRequest {
    /// `PATCH`: JSON patch, merge patch, strategic merge patch or server-side apply.
    /// With a `view`, the patch applies to the served form of an object stored as another resource.
    func patch(_ r: ResourceType, _ ns: String?, _ name: String, _ sub: String?, view: StorageView? = nil) async throws -> Response {
        let contentType = (request.headers[.contentType] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let validation = try fieldValidation(r, options: "PatchOptions")
        let patch = try await body()
        let schema = mergeSchema(r)
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
                do { return try StrategicMergePatch.apply(patch, to: cur, schema: schema) } catch let e as OrcaError {
                    throw APIError.badRequest(e.message)
                }
            }
        case "application/apply-patch+yaml", "application/apply-patch+cbor":
            return try await serverSideApply(r, ns, name, sub, patch, schema: schema, view: view)
        default:
            throw APIError.unsupportedMediaType(contentType)
        }
        if sub == "scale" {
            let paths = ScaleSubresource.paths(r, served: registry.served)
            let current = try await registry.get(r, namespace: ns, name: name)
            let scale = try apply(try ScaleSubresource.scale(of: current, r, paths: paths, forPatch: true))
            let obj = try await ScaleSubresource.write(registry, r, ns, name, replicas: scale[path: ["spec", "replicas"]],
                                                       resourceVersion: patch[path: ["metadata", "resourceVersion"]]?.stringValue)
            return APIHandler.json(try ScaleSubresource.scale(of: obj, r, paths: paths))
        }
        let warnings = RequestWarnings()
        let obj = try await registry.guaranteedUpdate(view?.storage ?? r, namespace: ns, name: name, subresource: sub, dryRun: dryRun, user: context.user) { cur in
            let current = view?.toView(cur) ?? cur
            var next = try apply(current)
            warnings.replace(with: try Registry.checkPatched(&next, current: current, patch: patch, validation: validation,
                                                             strategic: contentType == "application/strategic-merge-patch+json", r, name: name))
            return view?.toStorage(next) ?? next
        }
        return respondObject(r, view?.toView(obj) ?? obj, warnings: warnings.all)
    }

    /// Server-side apply: creates the object if missing, otherwise merges the applied
    /// configuration into it and records the manager in `managedFields`.
    func serverSideApply(_ r: ResourceType, _ ns: String?, _ name: String, _ sub: String?, _ applied: JSONValue,
                         schema: (any MergeSchema)?, view: StorageView? = nil) async throws -> Response {
        guard let manager = query["fieldManager"], !manager.isEmpty else {
            throw APIError.badRequest("fieldManager is required for apply requests")
        }
        try FieldValidation.checkApplied(applied, r, namespace: ns, name: name)
        let now = KubernetesTime.string(registry.clock())
        let entry: JSONValue = ["manager": .string(manager), "operation": "Apply", "apiVersion": .string(r.apiVersion),
                                "time": .string(now), "fieldsType": "FieldsV1",
                                "fieldsV1": ManagedFields.fieldSet(applied, schema: schema)]
        let storage = view?.storage ?? r
        if let existing = try? await registry.get(storage, namespace: ns, name: name) {
            _ = existing
            let force = query["force"] == "true"
            let obj = try await registry.guaranteedUpdate(storage, namespace: ns, name: name, subresource: sub, dryRun: dryRun, user: context.user) { stored in
                let cur = view?.toView(stored) ?? stored
                try ManagedFields.checkConflicts(cur, applied: applied, manager: manager, force: force, resource: r, name: name)
                var next = try StrategicMergePatch.apply(ManagedFields.stripMeta(applied), to: cur, schema: schema)
                let owners = force ? ManagedFields.transferringConflicts(cur, applied: applied, manager: manager) : cur
                next[path: ["metadata", "managedFields"]] = ManagedFields.record(owners, entry: entry, manager: manager)
                next[path: ["metadata", "resourceVersion"]] = cur[path: ["metadata", "resourceVersion"]]
                return view?.toStorage(next) ?? next
            }
            return respondObject(r, view?.toView(obj) ?? obj)
        }
        var obj = applied
        obj.metadataName = name
        obj[path: ["metadata", "managedFields"]] = [entry]
        if let view { obj = view.toStorage(try registry.checkTypeMeta(r, obj)) }
        let created = try await registry.create(storage, namespace: ns, object: obj, dryRun: dryRun)
        return respondObject(r, view?.toView(created) ?? created, status: 201)
    }

    /// How patches and applies merge `r`'s objects: by the structural schema of a custom
    /// resource's version, else by the built-in kind's OpenAPI definition.
    func mergeSchema(_ r: ResourceType) -> (any MergeSchema)? {
        if let custom = registry.served.customResource(r) { return custom.version(r)?.schema }
        return OpenAPIMergeSchema(apiVersion: r.apiVersion, kind: r.kind)
    }
}
