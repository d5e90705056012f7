import Foundation
import Logging
import OrcaClient

/// The writes that bring one Service's (or Endpoints') EndpointSlices to what is wanted: the
/// slices to create, to update in place and to delete. Planning is pure; `apply` performs the
/// writes in the reconciler's order — creates, then updates, then deletes — so a backend
/// moving between slices is never missing from all of them.
struct EndpointSlicePlan: Sendable {
    var create: [EndpointSlice] = []
    var update: [EndpointSlice] = []
    var delete: [EndpointSlice] = []

    /// Nothing to write.
    var isEmpty: Bool { create.isEmpty && update.isEmpty && delete.isEmpty }

    /// Turns creates into updates of slices that would otherwise be deleted (`finalize`'s
    /// recycling): fewer writes, and consumers see a slice change instead of one slice going
    /// and another coming. Only slices `canReuse` accepts, of the same (immutable) address
    /// type, are reused.
    mutating func recycle(canReuse: (EndpointSlice) -> Bool) {
        var i = 0
        while i < delete.count, !create.isEmpty {
            let old = delete[i]
            guard canReuse(old), let j = create.lastIndex(where: { $0.addressType == old.addressType }) else {
                i += 1
                continue
            }
            var slice = create.remove(at: j)
            var meta = slice.metadata ?? ObjectMeta()
            meta.name = old.metadata?.name
            meta.generateName = nil
            meta.uid = old.metadata?.uid
            meta.resourceVersion = old.metadata?.resourceVersion
            meta.creationTimestamp = old.metadata?.creationTimestamp
            slice.metadata = meta
            update.append(slice)
            delete.remove(at: i)
        }
    }

    /// Writes the plan for the slices of `owner` (a `namespace/name` key the tracker files them
    /// under). Creates are skipped when `allowCreate` is false (the owner is being deleted),
    /// and dropped when the namespace is terminating. Every write is recorded in `tracker`.
    /// Throws the first failure; the writes before it stand.
    func apply(client: any APIClient, tracker: EndpointSliceTracker, owner: String, allowCreate: Bool,
               logger: Logger) async throws {
        if allowCreate {
            for slice in create {
                do {
                    let created = try await client.create(slice)
                    tracker.update(created, service: owner)
                } catch let e as APIError where Self.isNamespaceTerminating(e) {
                    logger.debug("not creating EndpointSlices for \(owner): \(e.message)")
                    return
                }
            }
        }
        for slice in update {
            let updated = try await client.update(slice)
            tracker.update(updated, service: owner)
        }
        for slice in delete {
            try await Self.delete(slice, client: client, tracker: tracker, owner: owner)
        }
    }

    /// Deletes one slice (precondition: its UID), tolerating one already gone.
    static func delete(_ slice: EndpointSlice, client: any APIClient, tracker: EndpointSliceTracker, owner: String) async throws {
        var options = DeletionOptions()
        options.preconditionUID = slice.metadata?.uid
        try await client.delete(EndpointSlice.self, namespace: slice.metadata?.namespace, name: slice.metadata?.name ?? "",
                                options: options)
        tracker.expectDeletion(slice, service: owner)
    }

    /// The API server refuses new objects in a namespace being deleted.
    static func isNamespaceTerminating(_ e: APIError) -> Bool {
        e.code == 403 && e.message.contains("because it is being terminated")
    }
}
