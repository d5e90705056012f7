import Foundation

/// Hands out one `SharedInformer` per kind, so the scheduler and every controller share
/// one cache and one watch per resource (client-go's SharedInformerFactory). Informers
/// asked for after `run()` started are started at once.
public actor SharedInformerFactory {
    let client: any APIClient
    let clock: any WallClock
    var informers: [ObjectIdentifier: any Sendable] = [:]
    /// Every informer's run loop, started by each `run()`.
    var runners: [@Sendable () async -> Void] = []
    var started: AsyncStream<@Sendable () async -> Void>.Continuation?

    public init(client: any APIClient, clock: any WallClock = SystemClock()) {
        self.client = client
        self.clock = clock
    }

    /// The shared informer of `Object`'s resource (created on first use, with the namespace,
    /// controller-UID and orphan indexes; pods also by node name).
    public func informer<Object: KubernetesObject>(_ type: Object.Type) -> SharedInformer<Object> {
        if let existing = informers[ObjectIdentifier(type)] as? SharedInformer<Object> { return existing }
        guard let resource = client.catalog.resource(apiVersion: Object.apiVersion, kind: Object.kind) else {
            preconditionFailure("\(Object.apiVersion) \(Object.kind) is not in the resource catalog")
        }
        var indexers: [String: IndexFunction<Object>] = [
            Indexers.namespace: Indexers.byNamespace,
            Indexers.controllerUID: Indexers.byControllerUID,
            Indexers.orphanNamespace: Indexers.byOrphanNamespace,
        ]
        if Object.self == Pod.self {
            indexers[Indexers.nodeName] = { ($0 as? Pod).map(Indexers.byNodeName) ?? [] }
        }
        // Stored before any suspension, so two callers never make two informers of one kind.
        let informer = SharedInformer<Object>(client: client, resource: resource, indexers: indexers, clock: clock)
        informers[ObjectIdentifier(type)] = informer
        let runner: @Sendable () async -> Void = { await informer.run() }
        runners.append(runner)
        started?.yield(runner)
        return informer
    }

    /// Runs every informer (present and future) until cancelled; may run again after.
    public func run() async {
        let (stream, continuation) = AsyncStream<@Sendable () async -> Void>.makeStream()
        for r in runners { continuation.yield(r) }
        started = continuation
        await withDiscardingTaskGroup { group in
            for await runner in stream {
                group.addTask { await runner() }
            }
        }
        started = nil
    }
}
