import OrcaClient

/// An object of any kind seen only through its metadata (`meta.k8s.io/v1`
/// PartialObjectMetadata): the garbage collector's live reads, and what its informers of
/// custom resources keep.
struct PartialObjectMetadata: KubernetesObject {
    static let apiVersion = "meta.k8s.io/v1"
    static let kind = "PartialObjectMetadata"
    /// The object's own (`stable.example.com/v1`), as decoded.
    var apiVersion: String?
    var kind: String?
    var metadata: ObjectMeta?
}

/// The garbage collector's reads and writes of objects of any kind (its metadata client and
/// `operations.go`), addressed by `ObjectIdentity` through the resource catalog:
/// - live reads that bypass the informer caches;
/// - deletes with a propagation policy and UID (and resourceVersion) preconditions, where
///   404 counts as done;
/// - changes of `metadata.finalizers` and `metadata.ownerReferences` by read-modify-update
///   with the resourceVersion read, so a concurrent writer's change is never overwritten:
///   a conflict reads again.
struct ObjectMetadataClient: Sendable {
    let client: any APIClient

    /// How often a metadata change reads again after a conflict before giving up (the
    /// work queue then retries with back-off).
    static let conflictRetries = 5

    /// The REST resource serving `identity`'s kind; nil when Orca does not serve it.
    func resource(_ identity: ObjectIdentity) -> ResourceType? {
        client.catalog.resource(apiVersion: identity.apiVersion, kind: identity.kind)
    }

    /// The namespace `identity` is addressed in: none for a cluster-scoped kind.
    static func namespace(of identity: ObjectIdentity, in r: ResourceType) -> String? {
        r.namespaced ? identity.namespace : nil
    }

    /// The live metadata of the object named by `identity`, whatever its UID; nil when
    /// there is no such object.
    func get(_ identity: ObjectIdentity, _ r: ResourceType) async throws -> ObjectMeta? {
        do {
            let object = try await client.get(PartialObjectMetadata.self, r, namespace: Self.namespace(of: identity, in: r),
                                              name: identity.name)
            return object.metadata ?? ObjectMeta()
        } catch let e as APIError where e.isNotFound {
            return nil
        }
    }

    /// Deletes `identity`'s object with `propagationPolicy`, only while it still has
    /// `identity.uid` (and `resourceVersion` when given). A missing object is no error;
    /// a failed precondition throws 409.
    func delete(_ identity: ObjectIdentity, _ r: ResourceType, propagationPolicy: String,
                resourceVersion: String?) async throws {
        var options = DeletionOptions()
        options.propagationPolicy = propagationPolicy
        options.preconditionUID = identity.uid
        options.preconditionResourceVersion = resourceVersion
        do {
            try await client.delete(r, namespace: Self.namespace(of: identity, in: r), name: identity.name, options: options)
        } catch let e as APIError where e.isNotFound {}
    }

    /// Applies `change` to the finalizers and ownerReferences of `identity`'s object and
    /// writes them back (an update carrying the resourceVersion read, re-read on conflict).
    /// Returns the metadata written, or nil when nothing was written: the object is gone,
    /// has another UID, or `change` changed nothing.
    @discardableResult
    func updateMetadata(_ identity: ObjectIdentity, _ r: ResourceType,
                        _ change: @Sendable (inout ObjectMeta) -> Void) async throws -> ObjectMeta? {
        let namespace = Self.namespace(of: identity, in: r)
        var lastConflict: APIError?
        for _ in 0..<Self.conflictRetries {
            let object: JSONValue
            do {
                object = try await client.get(r, namespace: namespace, name: identity.name)
            } catch let e as APIError where e.isNotFound {
                return nil
            }
            guard var meta = try object.decode(PartialObjectMetadata.self).metadata, meta.uid == identity.uid else { return nil }
            let before = meta
            change(&meta)
            let finalizers = meta.finalizers ?? []
            let owners = meta.ownerReferences ?? []
            if finalizers == before.finalizers ?? [], owners == before.ownerReferences ?? [] { return nil }
            // The body is the object as read, with only these two fields replaced.
            var next = object
            next[path: ["metadata", "finalizers"]] = try finalizers.isEmpty ? nil : JSONValue(encoding: finalizers)
            next[path: ["metadata", "ownerReferences"]] = try owners.isEmpty ? nil : JSONValue(encoding: owners)
            do {
                let written = try await client.update(r, namespace: namespace, name: identity.name, object: next, subresource: nil)
                return try written.decode(PartialObjectMetadata.self).metadata
            } catch let e as APIError where e.isConflict {
                lastConflict = e
            } catch let e as APIError where e.isNotFound {
                return nil
            }
        }
        throw lastConflict ?? APIError(code: 409, reason: "Conflict", message: "\(identity) kept changing")
    }

    /// Removes `finalizer` from `identity`'s object (which completes its deletion when it was the last).
    func removeFinalizer(_ finalizer: String, from identity: ObjectIdentity, _ r: ResourceType) async throws {
        try await updateMetadata(identity, r) { meta in
            meta.finalizers = meta.finalizers?.filter { $0 != finalizer }
        }
    }

    /// Removes the references to the owners `ownerUIDs` from `identity`'s object.
    func removeOwnerReferences(to ownerUIDs: Set<String>, from identity: ObjectIdentity, _ r: ResourceType) async throws {
        try await updateMetadata(identity, r) { meta in
            meta.ownerReferences = meta.ownerReferences?.filter { !ownerUIDs.contains($0.uid ?? "") }
        }
    }
}
