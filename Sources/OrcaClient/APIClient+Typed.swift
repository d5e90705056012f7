import Foundation

/// Typed reads and writes: the generated OrcaAPI structs in and out, so controllers never
/// walk `JSONValue` paths.
extension APIClient {
    /// The REST resource that serves `Object`.
    public func resource<Object: KubernetesResource>(for type: Object.Type) -> ResourceType {
        guard let r = catalog.resource(apiVersion: Object.apiVersion, kind: Object.kind) else {
            preconditionFailure("\(Object.apiVersion) \(Object.kind) is not in the resource catalog")
        }
        return r
    }

    /// Reads one object.
    public func get<Object: KubernetesObject>(_ type: Object.Type, namespace: String?, name: String) async throws -> Object {
        try await get(resource(for: type), namespace: namespace, name: name).decode(Object.self)
    }

    /// Lists objects (one page of everything), optionally by label selector.
    public func list<Object: KubernetesObject>(_ type: Object.Type, namespace: String?, selector: LabelMatcher = .everything) async throws -> [Object] {
        var options = ListOptions()
        options.labelSelector = selector
        let list = try await list(resource(for: type), namespace: namespace, options: options)
        return try (list["items"]?.arrayValue ?? []).map { try $0.decode(Object.self) }
    }

    /// Creates `object` in its namespace (`metadata.namespace`, or `namespace`).
    @discardableResult
    public func create<Object: KubernetesObject>(_ object: Object, namespace: String? = nil) async throws -> Object {
        let r = resource(for: Object.self)
        let ns = r.namespaced ? (namespace ?? object.metadata?.namespace) : nil
        return try await create(r, namespace: ns, object: JSONValue(encoding: object)).decode(Object.self)
    }

    /// Replaces `object` (optimistic concurrency on its resourceVersion), or its `status`/other subresource.
    @discardableResult
    public func update<Object: KubernetesObject>(_ object: Object, subresource: String? = nil) async throws -> Object {
        let r = resource(for: Object.self)
        return try await update(r, namespace: r.namespaced ? object.metadata?.namespace : nil, name: object.metadata?.name ?? "",
                                object: JSONValue(encoding: object), subresource: subresource).decode(Object.self)
    }

    /// Applies a JSON merge patch to an object or one of its subresources.
    @discardableResult
    public func mergePatch<Object: KubernetesObject>(_ type: Object.Type, namespace: String?, name: String, patch: JSONValue,
                                                     subresource: String? = nil) async throws -> Object {
        try await mergePatch(resource(for: type), namespace: namespace, name: name, patch: patch, subresource: subresource)
            .decode(Object.self)
    }

    /// Deletes an object; a missing one is not an error when `ignoreNotFound`.
    public func delete<Object: KubernetesObject>(_ type: Object.Type, namespace: String?, name: String,
                                                 options: DeletionOptions = DeletionOptions(), ignoreNotFound: Bool = true) async throws {
        do {
            try await delete(resource(for: type), namespace: namespace, name: name, options: options)
        } catch let e as APIError where e.code == 404 && ignoreNotFound {}
    }
}

extension APIError {
    /// 404.
    public var isNotFound: Bool { code == 404 }
    /// 409 `Conflict` (a stale resourceVersion).
    public var isConflict: Bool { code == 409 && reason == "Conflict" }
    /// 409 `AlreadyExists`.
    public var isAlreadyExists: Bool { code == 409 && reason == "AlreadyExists" }
}
