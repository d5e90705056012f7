import Foundation
import Hummingbird
import OrcaAPI

extension ResourceRequest {
    /// A request on a resource served over another's storage (`events.k8s.io/v1` Events
    /// over core/v1 Events): the registry works on the stored form; bodies, responses,
    /// watch events and field selectors are converted.
    func serve(_ r: ResourceType, _ ns: String?, view: StorageView) async throws -> Response {
        let storage = view.storage
        switch (request.method, info.name, info.subresource) {
        case (.get, nil, nil):
            var options = try ListOptions(query: query)
            options.fieldSelector = view.storageSelector(options.fieldSelector)
            try FieldLabels.check(options.fieldSelector, for: storage)
            if options.watch { return try await watch(r, ns, options, view: view) }
            let list = try await registry.list(storage, namespace: ns, options: options)
            let items = (list["items"]?.arrayValue ?? []).map(view.toView)
            if wantsTable {
                return APIHandler.json(handler.tables.table(r, objects: items, listMeta: list["metadata"], includeObject: query["includeObject"]))
            }
            var out = list
            out["apiVersion"] = .string(r.apiVersion)
            out["kind"] = .string(r.kind + "List")
            out["items"] = .array(items)
            return APIHandler.json(out)
        case (.get, let name?, nil):
            return respondObject(r, view.toView(try await registry.get(storage, namespace: ns, name: name)))
        case (.post, nil, nil):
            let (raw, warnings) = try await validatedBody(r, options: "CreateOptions")
            let body = try registry.checkTypeMeta(r, raw)
            let causes = r.group == "events.k8s.io" ? EventsV1Conversion.validateCreate(body) : []
            if !causes.isEmpty { throw APIError.invalid(r, body.metadataName ?? "", causes) }
            let created = try await registry.create(storage, namespace: ns, object: view.toStorage(body), dryRun: dryRun, user: context.user)
            return respondObject(r, view.toView(created), status: 201, warnings: warnings)
        case (.put, let name?, nil):
            let (raw, warnings) = try await validatedBody(r, options: "UpdateOptions")
            let body = try registry.checkTypeMeta(r, raw)
            let updated = try await registry.update(storage, namespace: ns, name: name, object: view.toStorage(body), dryRun: dryRun, user: context.user)
            return respondObject(r, view.toView(updated), warnings: warnings)
        case (.patch, let name?, nil):
            return try await patch(r, ns, name, nil, view: view)
        case (.delete, let name?, nil):
            var options = DeletionOptions(body: try await optionalBody(), query: query)
            if dryRun { options.dryRun = true }
            let (obj, deleted) = try await registry.delete(storage, namespace: ns, name: name, options: options, user: context.user)
            if deleted {
                var details: [String: JSONValue] = ["name": .string(name), "kind": .string(r.resource)]
                if !r.group.isEmpty { details["group"] = .string(r.group) }
                if let uid = obj.metadataUID { details["uid"] = .string(uid) }
                return APIHandler.json(["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "details": .object(details)])
            }
            return respondObject(r, view.toView(obj))
        case (.delete, nil, nil):
            var options = try ListOptions(query: query)
            options.fieldSelector = view.storageSelector(options.fieldSelector)
            try FieldLabels.check(options.fieldSelector, for: storage)
            let list = try await registry.list(storage, namespace: ns, options: options)
            let deleteOptions = DeletionOptions(body: try await optionalBody(), query: query)
            var deleted: [JSONValue] = []
            for item in list["items"]?.arrayValue ?? [] {
                guard let name = item.metadataName else { continue }
                if let (obj, _) = try? await registry.delete(storage, namespace: item.metadataNamespace, name: name, options: deleteOptions, user: context.user) {
                    deleted.append(view.toView(obj))
                }
            }
            var out = list
            out["apiVersion"] = .string(r.apiVersion)
            out["kind"] = .string(r.kind + "List")
            out["items"] = .array(deleted)
            return APIHandler.json(out)
        default:
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }
}
