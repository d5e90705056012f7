import Foundation
import Logging
import OrcaAPI

/// apiextensions-apiserver's controllers for CustomResourceDefinitions, in the API server:
/// names are accepted unless another definition of the group holds them (`NamesAccepted`),
/// a definition with accepted names is `Established` and served, and a deleted one first
/// has every custom resource deleted, then loses its cleanup finalizer.
public struct CustomResourceDefinitionController: Sendable {
    let registry: Registry
    let logger: Logger
    static let definitions = ResourceCatalog.standard.resource(group: "apiextensions.k8s.io", version: "v1",
                                                                resource: "customresourcedefinitions")!

    public init(registry: Registry, logger: Logger = Logger(label: "orca.apiserver.crd")) {
        self.registry = registry
        self.logger = logger
    }

    /// Serves the established definitions and follows every change until cancelled; a pending
    /// cleanup (custom resources with finalizers of their own) is retried every second.
    public func run() async {
        await RegistryResyncLoop(registry: registry, resources: [Self.definitions], logger: logger).run { try await sync() }
    }

    /// One pass over every definition: conditions, the served set and cleanups. Returns
    /// whether a cleanup is still waiting for custom resources to go.
    @discardableResult
    public func sync() async throws -> Bool {
        var definitions = try await registry.decodedItems(Self.definitions, as: CustomResourceDefinition.self, logger: logger)
        definitions.sort { ($0.metadata?.creationTimestamp ?? "", $0.metadata?.name ?? "") < ($1.metadata?.creationTimestamp ?? "", $1.metadata?.name ?? "") }
        var accepted: [CustomResourceDefinition] = []
        for crd in definitions {
            var next = crd
            next.status = status(crd, others: accepted)
            if next.status != crd.status {
                next = (try? await writeStatus(next)) ?? next
            }
            accepted.append(next)
        }
        registry.served.serve(accepted.compactMap(CustomResource.init))
        var pending = false
        for crd in accepted where crd.metadata?.deletionTimestamp != nil
            && (crd.metadata?.finalizers ?? []).contains(CustomResourceDefinitionConditions.cleanupFinalizer) {
            do {
                if try await cleanUp(crd) { pending = true }
            } catch {
                logger.warning("deleting the custom resources of \(crd.metadata?.name ?? ""): \(error)")
                pending = true
            }
        }
        return pending
    }

    /// The status `crd` should have, given the definitions before it (older ones win a name).
    func status(_ crd: CustomResourceDefinition, others: [CustomResourceDefinition]) -> CustomResourceDefinitionStatus {
        var status = crd.status ?? CustomResourceDefinitionStatus()
        let now = registry.clock()
        var conditions = status.conditions ?? []
        let names = crd.spec?.names ?? CustomResourceDefinitionNames()
        if let conflict = conflict(crd, names, others: others) {
            CustomResourceDefinitionConditions.set(&conditions, "NamesAccepted", false, reason: conflict.reason,
                                                   message: conflict.message, now: now)
            if !CustomResourceDefinitionConditions.isTrue(crd, "Established") {
                CustomResourceDefinitionConditions.set(&conditions, "Established", false, reason: "NotAccepted",
                                                       message: "not all names are accepted", now: now)
            }
        } else {
            status.acceptedNames = names
            CustomResourceDefinitionConditions.set(&conditions, "NamesAccepted", true, reason: "NoConflicts",
                                                   message: "no conflicts found", now: now)
            CustomResourceDefinitionConditions.set(&conditions, "Established", true, reason: "InitialNamesAccepted",
                                                   message: "the initial names have been accepted", now: now)
        }
        status.conditions = conditions
        let storage = (crd.spec?.versions ?? []).first { $0.storage == true }?.name
        if let storage, !(status.storedVersions ?? []).contains(storage) {
            status.storedVersions = (status.storedVersions ?? []) + [storage]
        }
        return status
    }

    /// The first name of `crd` another definition of its group already serves, or a built-in
    /// resource of the group has.
    func conflict(_ crd: CustomResourceDefinition, _ names: CustomResourceDefinitionNames,
                  others: [CustomResourceDefinition]) -> (reason: String, message: String)? {
        let group = crd.spec?.group ?? ""
        var plurals = Set(registry.served.builtIn.resources.filter { $0.group == group }.map(\.resource))
        var kinds = Set(registry.served.builtIn.resources.filter { $0.group == group }.map(\.kind))
        for other in others where other.spec?.group == group && other.metadata?.name != crd.metadata?.name {
            guard let taken = other.status?.acceptedNames else { continue }
            plurals.formUnion([taken.plural, taken.singular].compactMap { $0 } + (taken.shortNames ?? []))
            kinds.formUnion([taken.kind, taken.listKind].compactMap { $0 })
        }
        for name in [names.plural, names.singular].compactMap({ $0 }) + (names.shortNames ?? []) where plurals.contains(name) {
            return (name == names.plural ? "PluralConflict" : name == names.singular ? "SingularConflict" : "ShortNamesConflict",
                    "\"\(name)\" is already in use")
        }
        for kind in [names.kind, names.listKind].compactMap({ $0 }) where kinds.contains(kind) {
            return (kind == names.kind ? "KindConflict" : "ListKindConflict", "\"\(kind)\" is already in use")
        }
        return nil
    }

    func writeStatus(_ crd: CustomResourceDefinition) async throws -> CustomResourceDefinition {
        let status = try JSONValue(encoding: crd.status)
        let written = try await registry.guaranteedUpdate(Self.definitions, namespace: nil, name: crd.metadata?.name ?? "",
                                                          subresource: "status") { current in
            var next = current
            next["status"] = status
            return next
        }
        return try written.decode(CustomResourceDefinition.self)
    }

    /// Deletes the custom resources of a deleted definition; once none is left, removes the
    /// cleanup finalizer (which finishes the definition's deletion). Returns whether some remain.
    func cleanUp(_ crd: CustomResourceDefinition) async throws -> Bool {
        let name = crd.metadata?.name ?? ""
        if let custom = registry.served.customResource(groupResource: name) {
            let r = custom.resourceTypes.first
                ?? ResourceType(custom.group, custom.storageVersion, custom.kind, custom.plural, namespaced: custom.namespaced)
            let list = try await registry.list(r, namespace: nil, options: ListOptions())
            let items = list["items"]?.arrayValue ?? []
            for item in items where item.deletionTimestamp == nil {
                guard let itemName = item.metadataName else { continue }
                _ = try? await registry.delete(r, namespace: item.metadataNamespace, name: itemName)
            }
            if !items.isEmpty {
                let remaining = try await registry.list(r, namespace: nil, options: ListOptions())
                if !(remaining["items"]?.arrayValue ?? []).isEmpty { return true }
            }
        }
        _ = try await registry.guaranteedUpdate(Self.definitions, namespace: nil, name: name) { current in
            var next = current
            next[path: ["metadata", "finalizers"]] = .array(current.finalizers
                .filter { $0 != CustomResourceDefinitionConditions.cleanupFinalizer }.map(JSONValue.string))
            return next
        }
        logger.info("custom resource definition \(name): its custom resources are gone")
        return false
    }
}
