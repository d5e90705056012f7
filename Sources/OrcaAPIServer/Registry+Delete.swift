import Foundation
import OrcaAPI
import OrcaStore

extension Registry {
    /// Deletes an object: at once, or by marking it (`deletionTimestamp`) when finalizers
    /// remain, for graceful pod deletion, and for namespaces (emptied by their controller).
    /// Returns the object and whether it is gone already.
    public func delete(_ r: ResourceType, namespace: String?, name: String,
                       options: DeletionOptions = DeletionOptions(), user: UserInfo? = nil) async throws -> (object: JSONValue, deleted: Bool) {
        for _ in 0..<5 {
            guard let (old, rev) = try await read(r, namespace: namespace, name: name) else {
                throw APIError.notFound(r, name)
            }
            if let uid = options.preconditionUID, uid != old.metadataUID {
                throw APIError.conflict(r, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(old.metadataUID ?? "")")
            }
            if let prv = options.preconditionResourceVersion, prv != String(rev) {
                throw APIError.conflict(r, name, "Precondition failed: ResourceVersion in precondition: \(prv), ResourceVersion in object meta: \(rev)")
            }
            try await admission.validate(AdmissionAttributes(resource: r, operation: .delete, namespace: old.metadataNamespace, name: name,
                                                             object: nil, oldObject: old, user: user, dryRun: options.dryRun),
                                         registry: self)
            let grace = gracePeriod(r, old, options)
            // Foreground and Orphan always mark: the garbage collector finishes the deletion
            // (it removes `foregroundDeletion` / `orphan` once the dependents are handled).
            // A CustomResourceDefinition is marked and gets its cleanup finalizer on the first
            // delete: its controller deletes every custom resource, then the finalizer.
            let definition = Self.isCustomResourceDefinition(r)
            let needsMark = !old.finalizers.isEmpty || grace > 0 || r.resource == "namespaces" || definition
                || options.propagationPolicy == "Foreground" || options.propagationPolicy == "Orphan"
            if needsMark {
                if old.deletionTimestamp != nil {
                    let current = old[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue ?? 0
                    if grace >= current || !old.finalizers.isEmpty && grace > 0 || r.resource == "namespaces" || definition { return (old, false) }
                }
                var next = old
                let now = clock()
                next[path: ["metadata", "deletionTimestamp"]] = .string(KubernetesTime.string(now.addingTimeInterval(TimeInterval(min(grace, Self.maxGracePeriodSeconds)))))
                next[path: ["metadata", "deletionGracePeriodSeconds"]] = .int(grace)
                if options.propagationPolicy == "Foreground", !next.finalizers.contains("foregroundDeletion") {
                    next[path: ["metadata", "finalizers"]] = .array((next.finalizers + ["foregroundDeletion"]).map(JSONValue.string))
                } else if options.propagationPolicy == "Orphan", !next.finalizers.contains("orphan") {
                    next[path: ["metadata", "finalizers"]] = .array((next.finalizers + ["orphan"]).map(JSONValue.string))
                }
                if r.resource == "namespaces" { next[path: ["status", "phase"]] = "Terminating" }
                if definition { CustomResourceDefinitionConditions.markTerminating(&next, now: now) }
                if next.finalizers.isEmpty, grace == 0, r.resource != "namespaces" {
                    // Shortened to zero: delete now.
                } else {
                    if options.dryRun { return (next, false) }
                    do {
                        let key = r.storeKey(namespace: namespace, name: name)
                        let kv = try await store.update(key, value: try encode(try await storageForm(next, of: r), key: key), expectedRevision: rev)
                        next.resourceVersion = String(kv.modRevision)
                        return (next, false)
                    } catch let e as OrcaError where e.code == .revisionMismatch {
                        continue
                    }
                }
            }
            if options.dryRun { return (old, true) }
            do {
                let (_, delRev) = try await store.delete(r.storeKey(namespace: namespace, name: name), expectedRevision: rev)
                if Self.isService(r) { await serviceAllocator.release(ServiceAddressAllocator.keys(of: old), of: old) }
                var gone = old
                gone.resourceVersion = String(delRev)
                return (gone, true)
            } catch let e as OrcaError where e.code == .revisionMismatch {
                continue
            }
        }
        throw APIError.conflict(r, name, "the object kept changing during deletion")
    }

    /// The longest grace period a deletion timestamp is computed with (100 years): any
    /// `gracePeriodSeconds` up to `Int64.max` is accepted, as Kubernetes does, but the time
    /// written stays a time RFC 3339 can hold.
    static let maxGracePeriodSeconds: Int64 = 100 * 365 * 86_400

    /// The grace period of a deletion: pods bound to a node get theirs; everything else is immediate.
    func gracePeriod(_ r: ResourceType, _ obj: JSONValue, _ options: DeletionOptions) -> Int64 {
        guard r.resource == "pods" else { return 0 }
        let nodeName = obj[path: ["spec", "nodeName"]]?.stringValue ?? ""
        let phase = obj[path: ["status", "phase"]]?.stringValue ?? ""
        if nodeName.isEmpty || phase == "Succeeded" || phase == "Failed" { return 0 }
        let g = options.gracePeriodSeconds ?? obj[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
        return max(0, g)
    }
}
