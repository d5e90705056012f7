import OrcaAPI
import Synchronization

/// The resources the API server serves right now: the built-in catalog plus the custom
/// resources of established CustomResourceDefinitions (kube-apiserver's apiextensions
/// handler). Readers take a snapshot; the CRD controller swaps the custom part.
public final class ServedResources: Sendable {
    /// The resources compiled into Orca.
    public let builtIn: ResourceCatalog
    private let state: Mutex<Snapshot>

    struct Snapshot: Sendable {
        var catalog: ResourceCatalog
        /// Custom resources by group resource (`crontabs.stable.example.com`).
        var custom: [String: CustomResource]
    }

    public init(builtIn: ResourceCatalog = .standard) {
        self.builtIn = builtIn
        self.state = Mutex(Snapshot(catalog: builtIn, custom: [:]))
    }

    /// Every resource served now, built-in ones first.
    public var catalog: ResourceCatalog { state.withLock { $0.catalog } }

    /// The custom resource behind `r`, or nil for a built-in resource.
    public func customResource(_ r: ResourceType) -> CustomResource? {
        customResource(groupResource: r.groupResource)
    }

    /// The custom resource of a group resource (`crontabs.stable.example.com`).
    public func customResource(groupResource: String) -> CustomResource? {
        state.withLock { $0.custom[groupResource] }
    }

    /// Every custom resource served now.
    public var customResources: [CustomResource] { state.withLock { Array($0.custom.values) } }

    /// Serves exactly `resources` besides the built-in ones (the established CRDs).
    /// A custom resource never shadows a built-in one of the same group and name.
    public func serve(_ resources: [CustomResource]) {
        let builtInNames = Set(builtIn.resources.map(\.groupResource))
        var custom: [String: CustomResource] = [:]
        for c in resources.sorted(by: { $0.groupResource < $1.groupResource })
        where !builtInNames.contains(c.groupResource) && custom[c.groupResource] == nil {
            custom[c.groupResource] = c
        }
        let types = custom.keys.sorted().flatMap { custom[$0]!.resourceTypes }
        state.withLock { $0 = Snapshot(catalog: ResourceCatalog(resources: builtIn.resources + types), custom: custom) }
    }
}
