import Foundation
import Logging
import OrcaCore

/// What a controller wants to hear from an informer. Handlers run in order on the
/// informer's task and should only enqueue keys.
public struct InformerEventHandler<Object: KubernetesObject>: Sendable {
    public var onAdd: @Sendable (Object) async -> Void
    public var onUpdate: @Sendable (_ old: Object, _ new: Object) async -> Void
    public var onDelete: @Sendable (Object) async -> Void

    public init(onAdd: @escaping @Sendable (Object) async -> Void = { _ in },
                onUpdate: @escaping @Sendable (Object, Object) async -> Void = { _, _ in },
                onDelete: @escaping @Sendable (Object) async -> Void = { _ in }) {
        self.onAdd = onAdd
        self.onUpdate = onUpdate
        self.onDelete = onDelete
    }
}

/// A function that files an object under zero or more index values (client-go's IndexFunc).
public typealias IndexFunction<Object> = @Sendable (Object) -> [String]

/// A typed list-then-watch cache of one resource, shared by every controller that reads
/// it (client-go's shared index informer): objects decoded as `Object`, kept by
/// `namespace/name`, with indexes, a lister view, and event handlers.
///
/// An object that does not decode as `Object` is logged and left out; it never stops the
/// informer from serving the others.
public actor SharedInformer<Object: KubernetesObject> {
    public let resource: ResourceType
    let reflector: Reflector
    var items: [String: Object] = [:]
    var indexers: [String: IndexFunction<Object>] = [:]
    /// index name → index value → keys.
    var indices: [String: [String: Set<String>]] = [:]
    var handlers: [InformerEventHandler<Object>] = []
    var synced = false
    /// Set by `run()`: the first list of a run reports unchanged objects as updates too, so
    /// handlers registered by controllers that start afresh (a new leadership term) see them all.
    var resyncOnList = false
    var syncWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    var nextWaiter: UInt64 = 0
    let logger: Logger

    public init(client: any APIClient, resource: ResourceType, namespace: String? = nil, options: ListOptions = ListOptions(),
                indexers: [String: IndexFunction<Object>] = [:], clock: any WallClock = SystemClock()) {
        self.resource = resource
        self.indexers = indexers
        self.reflector = Reflector(client: client, resource: resource, namespace: namespace, options: options, clock: clock)
        self.logger = Logger(label: "orca.informer.\(resource.resource)")
    }

    /// The cache key of an object: `namespace/name`, or `name` for cluster-scoped kinds.
    public static func key(_ object: Object) -> String {
        ObjectKey(object).description
    }

    // MARK: registration

    /// Adds a handler; objects already cached are replayed to it as adds.
    public func addEventHandler(_ handler: InformerEventHandler<Object>) async {
        handlers.append(handler)
        for object in items.values { await handler.onAdd(object) }
    }

    /// Adds an index; objects already cached are indexed at once.
    public func addIndexer(_ name: String, _ function: @escaping IndexFunction<Object>) {
        indexers[name] = function
        var index: [String: Set<String>] = [:]
        for (key, object) in items {
            for value in function(object) { index[value, default: []].insert(key) }
        }
        indices[name] = index
    }

    // MARK: reading (the lister)

    /// True once the first list has been loaded.
    public var hasSynced: Bool { synced }

    /// Waits until the first list of the current run has been loaded, or the task is cancelled.
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

    /// The cached object with this key.
    public func get(_ key: String) -> Object? { items[key] }

    /// The cached object `namespace/name` (or `name` when `namespace` is nil).
    public func get(namespace: String?, name: String) -> Object? {
        items[ObjectKey(namespace: namespace, name: name).description]
    }

    /// Cached objects, optionally in one namespace and matching a label selector.
    public func list(namespace: String? = nil, selector: LabelMatcher = .everything) -> [Object] {
        let candidates: [Object]
        if let namespace, indexers[Indexers.namespace] != nil {
            candidates = byIndex(Indexers.namespace, namespace)
        } else if let namespace {
            candidates = items.values.filter { $0.metadata?.namespace == namespace }
        } else {
            candidates = Array(items.values)
        }
        if selector.isEmpty { return candidates }
        return candidates.filter { selector.matches($0.metadata?.labels ?? [:]) }
    }

    /// The objects filed under `value` in the index `name`.
    public func byIndex(_ name: String, _ value: String) -> [Object] {
        (indices[name]?[value] ?? []).compactMap { items[$0] }
    }

    /// Every key in the cache.
    public func keys() -> [String] { Array(items.keys) }

    // MARK: running

    /// Runs list+watch until cancelled. A later run (after the first was cancelled) lists
    /// again before it counts as synced, and reports every object to the handlers.
    public func run() async {
        synced = false
        resyncOnList = true
        await reflector.run { delta in await self.apply(delta) }
    }

    func decode(_ json: JSONValue) -> Object? {
        do { return try json.decode(Object.self) } catch {
            logger.warning("\(resource.resource) \(json.metadataNamespace ?? "")/\(json.metadataName ?? ""): cannot decode: \(error)")
            return nil
        }
    }

    func apply(_ delta: Reflector.Delta) async {
        switch delta {
        case .replaced(let objects):
            var fresh: [String: Object] = [:]
            for json in objects {
                // Unchanged since the cache saw it (same resourceVersion): no need to decode again.
                if let name = json.metadataName, let rv = json.resourceVersion {
                    let key = ObjectKey(namespace: json.metadataNamespace, name: name).description
                    if let cached = items[key], cached.metadata?.resourceVersion == rv {
                        fresh[key] = cached
                        continue
                    }
                }
                if let object = decode(json) {
                    fresh[Self.key(object)] = object
                } else if let name = json.metadataName {
                    // Undecodable is not deleted: keep the last good version.
                    let key = ObjectKey(namespace: json.metadataNamespace, name: name).description
                    if let old = items[key] { fresh[key] = old }
                }
            }
            let resync = resyncOnList
            resyncOnList = false
            for (key, old) in items where fresh[key] == nil {
                remove(key)
                for h in handlers { await h.onDelete(old) }
            }
            for (key, object) in fresh {
                let old = items[key]
                if old == object {
                    if resync, let old { for h in handlers { await h.onUpdate(old, object) } }
                    continue
                }
                store(key, object)
                for h in handlers {
                    if let old { await h.onUpdate(old, object) } else { await h.onAdd(object) }
                }
            }
            if !synced {
                synced = true
                for w in syncWaiters.values { w.resume() }
                syncWaiters = [:]
            }
        case .added(let json), .modified(let json):
            // An update that does not decode leaves the last good version cached.
            guard let object = decode(json) else { return }
            let key = Self.key(object)
            let old = items[key]
            store(key, object)
            for h in handlers {
                if let old { await h.onUpdate(old, object) } else { await h.onAdd(object) }
            }
        case .deleted(let json):
            let key = ObjectKey(namespace: json.metadataNamespace, name: json.metadataName ?? "").description
            guard let last = items[key] ?? decode(json) else { return }
            remove(key)
            for h in handlers { await h.onDelete(last) }
        }
    }

    func store(_ key: String, _ object: Object) {
        if let old = items[key] { unindex(key, old) }
        items[key] = object
        for (name, function) in indexers {
            for value in function(object) { indices[name, default: [:]][value, default: []].insert(key) }
        }
    }

    func remove(_ key: String) {
        guard let old = items.removeValue(forKey: key) else { return }
        unindex(key, old)
        items.shrinkIfSparse()
    }

    func unindex(_ key: String, _ object: Object) {
        for (name, function) in indexers {
            for value in function(object) {
                indices[name]?[value]?.remove(key)
                if indices[name]?[value]?.isEmpty == true { indices[name]?[value] = nil }
            }
            indices[name]?.shrinkIfSparse()
        }
    }
}
