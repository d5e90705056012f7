import OrcaClient
import Synchronization

/// Feeds custom resources into the garbage collector's ownership graph (kube-controller-manager
/// re-syncing its monitors with discovery): one metadata-only informer per established
/// CustomResourceDefinition, started when the definition is established and stopped when it
/// goes. So custom resources are collected when their owners go, and their own foreground and
/// orphan deletions are finished like those of built-in kinds.
final class CustomResourceMonitors: Runnable {
    let client: any APIClient
    let definitions: SharedInformer<CustomResourceDefinition>
    let graph: GraphBuilder
    let clock: any WallClock
    /// The running `run()`'s signal that the definitions changed.
    private let changed = Mutex<AsyncStream<Void>.Continuation?>(nil)

    /// Builds the monitors on the shared informer of definitions.
    static func make(client: any APIClient, informers: SharedInformerFactory, graph: GraphBuilder,
                     clock: any WallClock) async -> CustomResourceMonitors {
        let monitors = CustomResourceMonitors(client: client, definitions: await informers.informer(CustomResourceDefinition.self),
                                              graph: graph, clock: clock)
        await monitors.definitions.addEventHandler(InformerEventHandler(
            onAdd: { _ in monitors.definitionsChanged() },
            onUpdate: { _, _ in monitors.definitionsChanged() },
            onDelete: { _ in monitors.definitionsChanged() }))
        return monitors
    }

    private init(client: any APIClient, definitions: SharedInformer<CustomResourceDefinition>, graph: GraphBuilder,
                 clock: any WallClock) {
        self.client = client
        self.definitions = definitions
        self.graph = graph
        self.clock = clock
    }

    func definitionsChanged() {
        _ = changed.withLock { $0?.yield() }
    }

    /// Runs an informer per established definition until cancelled.
    func run() async {
        let (changes, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        changed.withLock { $0 = continuation }
        continuation.yield()
        defer { changed.withLock { $0 = nil } }
        await definitions.waitForSync()
        await withDiscardingTaskGroup { group in
            var running: [String: (resource: ResourceType, stop: AsyncStream<Void>.Continuation)] = [:]
            for await _ in changes {
                let wanted = await Self.monitored(definitions.list())
                for (key, monitor) in running where wanted[key] != monitor.resource {
                    monitor.stop.finish()
                    running[key] = nil
                }
                for (key, r) in wanted where running[key] == nil {
                    let (stopped, stop) = AsyncStream<Void>.makeStream()
                    running[key] = (r, stop)
                    let informer = SharedInformer<PartialObjectMetadata>(client: client, resource: r, clock: clock)
                    await graph.monitor(informer, apiVersion: r.apiVersion, kind: r.kind)
                    group.addTask {
                        await withTaskGroup(of: Void.self) { inner in
                            inner.addTask { await informer.run() }
                            inner.addTask { for await _ in stopped {} }
                            await inner.next()
                            inner.cancelAll()
                        }
                    }
                }
            }
            for monitor in running.values { monitor.stop.finish() }
        }
    }

    /// The resource to watch of each established definition (`crontabs.stable.example.com`):
    /// its storage version when served, else its first served one.
    static func monitored(_ definitions: [CustomResourceDefinition]) -> [String: ResourceType] {
        var out: [String: ResourceType] = [:]
        for crd in definitions {
            guard let spec = crd.spec, let group = spec.group, let names = crd.status?.acceptedNames,
                  let plural = names.plural, !plural.isEmpty, let kind = names.kind, !kind.isEmpty,
                  crd.status?.conditions?.contains(where: { $0.type == "Established" && $0.status == "True" }) == true else { continue }
            let served = (spec.versions ?? []).filter { $0.served == true }
            guard let version = (served.first { $0.storage == true } ?? served.first)?.name else { continue }
            out["\(plural).\(group)"] = ResourceType(group, version, kind, plural, namespaced: spec.scope != "Cluster")
        }
        return out
    }
}
