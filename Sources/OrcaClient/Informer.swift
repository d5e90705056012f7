import Foundation

/// A list-then-watch cache of one resource as untyped JSON (the node agent's pod cache):
/// keeps the latest objects by `namespace/name` and calls the handler for each change.
/// New code uses the typed `SharedInformer`.
public actor Informer {
    public enum Change: Sendable {
        case added(JSONValue)
        case updated(old: JSONValue, new: JSONValue)
        case deleted(JSONValue)
    }

    public let resource: ResourceType
    let reflector: Reflector
    var cache: [String: JSONValue] = [:]
    var synced = false
    var handlers: [@Sendable (Change) async -> Void] = []
    var syncWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    var nextWaiter: UInt64 = 0

    public init(client: any APIClient, resource: ResourceType, namespace: String? = nil, options: ListOptions = ListOptions()) {
        self.resource = resource
        self.reflector = Reflector(client: client, resource: resource, namespace: namespace, options: options)
    }

    public static func key(_ obj: JSONValue) -> String {
        if let ns = obj.metadataNamespace, !ns.isEmpty { return "\(ns)/\(obj.metadataName ?? "")" }
        return obj.metadataName ?? ""
    }

    /// Registers a change handler (call before `run`).
    public func onChange(_ handler: @escaping @Sendable (Change) async -> Void) {
        handlers.append(handler)
    }

    /// The cached object with key `namespace/name` (or `name`).
    public func get(_ key: String) -> JSONValue? { cache[key] }

    /// All cached objects.
    public func list() -> [JSONValue] { Array(cache.values) }

    /// Waits until the first list has been loaded, or the task is cancelled.
    public func waitForSync() async {
        if synced { return }
        nextWaiter += 1
        let id = nextWaiter
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                if synced || Task.isCancelled { c.resume() } else { syncWaiters[id] = c }
            }
        } onCancel: {
            Task { await self.cancelWait(id) }
        }
    }

    func cancelWait(_ id: UInt64) {
        syncWaiters.removeValue(forKey: id)?.resume()
    }

    /// Runs list+watch until cancelled.
    public func run() async {
        await reflector.run { delta in await self.apply(delta) }
    }

    func apply(_ delta: Reflector.Delta) async {
        switch delta {
        case .replaced(let objects):
            var fresh: [String: JSONValue] = [:]
            for obj in objects { fresh[Informer.key(obj)] = obj }
            for (k, old) in cache where fresh[k] == nil {
                cache[k] = nil
                await emit(.deleted(old))
            }
            for (k, obj) in fresh {
                if let old = cache[k] {
                    if old != obj { cache[k] = obj; await emit(.updated(old: old, new: obj)) }
                } else {
                    cache[k] = obj
                    await emit(.added(obj))
                }
            }
            if !synced {
                synced = true
                for w in syncWaiters.values { w.resume() }
                syncWaiters = [:]
            }
        case .added(let obj), .modified(let obj):
            let k = Informer.key(obj)
            let old = cache[k]
            cache[k] = obj
            if let old { await emit(.updated(old: old, new: obj)) } else { await emit(.added(obj)) }
        case .deleted(let obj):
            let k = Informer.key(obj)
            cache[k] = nil
            await emit(.deleted(obj))
        }
    }

    func emit(_ change: Change) async {
        for h in handlers { await h(change) }
    }
}
