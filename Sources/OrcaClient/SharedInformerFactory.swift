import Foundation

/// Hands out one `SharedInformer` per kind, so the scheduler and every controller share
/// one cache and one watch per resource (client-go's SharedInformerFactory). Informers
/// asked for after `run()` started are started at once.
public actor SharedInformerFactory {
    let client: any APIClient
    let clock: any WallClock
    var informers: [ObjectIdentifier: any Sendable] = [:]
    var runners: [@Sendable () async -> Void] = []
    var started: AsyncStream<@Sendable () async -> Void>.Continuation?

    public init(client: any APIClient, clock: any WallClock = SystemClock()) {
        self.client = client
        self.clock = clock
    }

    /// The shared informer of `Object`'s resource (created on first use, with the
    /// namespace index; pods also get the node-name index).
    public func informer<Object: KubernetesObject>(_ type: Object.Type) async -> SharedInformer<Object> {
        if let existing = informers[ObjectIdentifier(type)] as? SharedInformer<Object> { return existing }
        guard let resource = client.catalog.resource(apiVersion: Object.apiVersion, kind: Object.kind) else {
            preconditionFailure("\(Object.apiVersion) \(Object.kind) is not in the resource catalog")
        }
        let informer = SharedInformer<Object>(client: client, resource: resource, clock: clock)
        await informer.addIndexer(Indexers.namespace, Indexers.byNamespace)
        await informer.addIndexer(Indexers.controllerUID, Indexers.byControllerUID)
        if let pods = informer as? SharedInformer<Pod> { await pods.addIndexer(Indexers.nodeName, Indexers.byNodeName) }
        informers[ObjectIdentifier(type)] = informer
        let runner: @Sendable () async -> Void = { await informer.run() }
        if let started { started.yield(runner) } else { runners.append(runner) }
        return informer
    }

    /// Runs every informer (present and future) until cancelled.
    public func run() async {
        let (stream, continuation) = AsyncStream<@Sendable () async -> Void>.makeStream()
        for r in runners { continuation.yield(r) }
        runners = []
        started = continuation
        await withDiscardingTaskGroup { group in
            for await runner in stream {
                group.addTask { await runner() }
            }
        }
    }
}
