import Foundation
import OrcaAPI
import OrcaStore

extension Registry {
    /// Replaces an object (`PUT`), or its `status` subresource. A non-empty
    /// `metadata.resourceVersion` in the body must match the stored one (409 otherwise).
    public func update(_ r: ResourceType, namespace: String?, name: String, object input: JSONValue,
                       subresource: String? = nil, dryRun: Bool = false, user: UserInfo? = nil) async throws -> JSONValue {
        var obj = try checkTypeMeta(r, input)
        if let bodyName = obj.metadataName, !bodyName.isEmpty, bodyName != name {
            throw APIError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        if r.namespaced, let bodyNS = obj.metadataNamespace, !bodyNS.isEmpty, bodyNS != namespace {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        guard let (old, rev) = try await read(r, namespace: namespace, name: name) else {
            throw APIError.notFound(r, name)
        }
        if let rv = obj.resourceVersion, !rv.isEmpty, rv != String(rev) {
            throw APIError.conflict(r, name, "the object has been modified; please apply your changes to the latest version and try again")
        }
        return try await write(r, name: name, old: old, revision: rev, dryRun: dryRun, subresource: subresource, user: user) { current in
            var next = obj
            next.metadataName = name
            if r.namespaced { next.metadataNamespace = namespace }
            try Self.checkUID(next, current: current, r, name: name)
            return Self.scope(next, current: current, to: subresource, of: r)
        }
    }

    /// Reads the current object, transforms it and writes it back with compare-and-swap;
    /// bumps `generation` on spec changes; skips no-op writes; finishes deletion when the
    /// last finalizer of a deleted object goes.
    func write(_ r: ResourceType, name: String, old: JSONValue, revision: Int64, dryRun: Bool,
               subresource: String? = nil, user: UserInfo? = nil,
               transform: (JSONValue) throws -> JSONValue) async throws -> JSONValue {
        var next = try transform(old)
        next["apiVersion"] = .string(r.apiVersion)
        next["kind"] = .string(r.kind)
        ObjectMetaRules.carryOver(&next, from: old)
        var attributes = AdmissionAttributes(resource: r, subresource: subresource, operation: .update, namespace: old.metadataNamespace,
                                             name: name, object: next, oldObject: old, user: user, dryRun: dryRun)
        try await admission.admit(&attributes, registry: self)
        next = attributes.object ?? next
        let s = strategy(r)
        try s.prepareForUpdate(&next, old: old, context: context(r))
        try TimeFields.normalize(&next, definition: OpenAPISchema.definitionName(apiVersion: r.apiVersion, kind: r.kind))
        if tracksGeneration(r), ObjectMetaRules.specPart(next) != ObjectMetaRules.specPart(old) {
            let gen = old[path: ["metadata", "generation"]]?.intValue ?? 1
            next[path: ["metadata", "generation"]] = .int(gen + 1)
        }
        var causes = ObjectMetaRules.validate(next, resource: r)
        causes += s.validate(next, old: old)
        if old.deletionTimestamp != nil {
            let added = Set(next.finalizers).subtracting(old.finalizers)
            if !added.isEmpty {
                causes.append(.forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted, found new finalizers \(added.sorted())"))
            }
        }
        if !causes.isEmpty { throw APIError.invalid(r, name, causes) }
        attributes.object = next
        try await admission.validate(attributes, registry: self)
        next.resourceVersion = String(revision)
        let key = r.storeKey(namespace: next.metadataNamespace, name: name)
        if next == old {
            // A no-op write is skipped, unless the stored value is under an old encryption
            // key or provider: then it is stored again (Kubernetes re-encrypts on replace).
            let stale = try await storedNeedsReencryption(key: key, revision: revision)
            if !stale { return old }
        }
        if dryRun { return next }
        let deleting = next.deletionTimestamp != nil && next.finalizers.isEmpty
            && (r.resource != "namespaces" || (next[path: ["spec", "finalizers"]]?.arrayValue ?? []).isEmpty)
            && ((next[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue ?? 0) == 0 || r.resource != "pods")
        // A Service's new addresses are claimed before the write; the ones it gave up (or all,
        // when this write finishes its deletion) are released after it.
        let service = Self.isService(r)
        let claimed = service && !deleting ? try await serviceAllocator.allocate(&next, old: old) : []
        do {
            if deleting {
                let (_, delRev) = try await store.delete(key, expectedRevision: revision)
                next.resourceVersion = String(delRev)
            } else {
                let kv = try await store.update(key, value: try encode(try await storageForm(next, of: r), key: key), expectedRevision: revision)
                next.resourceVersion = String(kv.modRevision)
            }
        } catch {
            await serviceAllocator.release(claimed, of: next)
            if let e = error as? OrcaError { throw APIError.from(e, resource: r, name: name) }
            throw error
        }
        if service {
            let kept = deleting ? [] : Set(ServiceAddressAllocator.keys(of: next))
            await serviceAllocator.release(ServiceAddressAllocator.keys(of: old).filter { !kept.contains($0) }, of: old)
        }
        return next
    }

    /// Applies `mutate` to the latest object, retrying on conflicts (the patch path).
    public func guaranteedUpdate(_ r: ResourceType, namespace: String?, name: String, subresource: String? = nil,
                                 dryRun: Bool = false, user: UserInfo? = nil,
                                 mutate: @Sendable (JSONValue) throws -> JSONValue) async throws -> JSONValue {
        var lastError: (any Error)?
        for _ in 0..<5 {
            guard let (old, rev) = try await read(r, namespace: namespace, name: name) else {
                throw APIError.notFound(r, name)
            }
            do {
                return try await write(r, name: name, old: old, revision: rev, dryRun: dryRun, subresource: subresource,
                                       user: user) { current in
                    let patched = try mutate(current)
                    if subresource == nil, let n = patched.metadataName, n != name {
                        throw APIError.invalid(r, name, [.invalid("metadata.name", n, "field is immutable")])
                    }
                    try Self.checkUID(patched, current: current, r, name: name)
                    return Self.scope(patched, current: current, to: subresource, of: r)
                }
            } catch let e as APIError where e.code == 409 && e.reason == "Conflict" {
                lastError = e
                continue
            }
        }
        throw lastError ?? APIError.internalError("update retries exhausted")
    }

    /// A UID in the body is a precondition, whatever the subresource: the object must be that
    /// one, not a namesake created since (the kubelet's status patches carry it).
    static func checkUID(_ next: JSONValue, current: JSONValue, _ r: ResourceType, name: String) throws {
        if let uid = next.metadataUID, !uid.isEmpty, let stored = current.metadataUID, uid != stored {
            throw APIError.conflict(r, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(stored)")
        }
    }

    /// What a write through `subresource` may change: `status` only its status, a pod's
    /// `ephemeralcontainers` only `spec.ephemeralContainers`; the main resource everything but
    /// those (they are carried over from `current`).
    static func scope(_ next: JSONValue, current: JSONValue, to subresource: String?, of r: ResourceType) -> JSONValue {
        let ephemeral = ["spec", "ephemeralContainers"]
        switch subresource {
        case "status":
            var out = current
            out["status"] = next["status"]
            return out
        case "approval" where r.resource == "certificatesigningrequests":
            // `kubectl certificate approve|deny`: only the conditions.
            var out = current
            out[path: ["status", "conditions"]] = next[path: ["status", "conditions"]]
            return out
        case "ephemeralcontainers" where r.resource == "pods":
            var out = current
            out[path: ephemeral] = next[path: ephemeral]
            return out
        default:
            var out = next
            if r.subresources.contains("status") { out["status"] = current["status"] }
            if r.resource == "pods", r.group.isEmpty { out[path: ephemeral] = current[path: ephemeral] }
            return out
        }
    }
}
