import Foundation
import Logging

/// A list-then-watch cache of one resource (Kubernetes' reflector + informer): keeps the
/// latest objects by `namespace/name` and calls the handler for each change. Relists
/// when the watch ends or its revision is compacted.
public actor Informer {
    public enum Change: Sendable {
        case added(JSONValue)
        case updated(old: JSONValue, new: JSONValue)
        case deleted(JSONValue)
    }

    public let resource: ResourceType
    let client: any APIClient
    let namespace: String?
    let options: ListOptions
    var cache: [String: JSONValue] = [:]
    var synced = false
    var handlers: [@Sendable (Change) async -> Void] = []
    var syncWaiters: [CheckedContinuation<Void, Never>] = []
    let logger: Logger

    public init(client: any APIClient, resource: ResourceType, namespace: String? = nil, options: ListOptions = ListOptions()) {
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.options = options
        self.logger = Logger(label: "orca.informer.\(resource.resource)")
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

    /// Waits until the first list has been loaded.
    public func waitForSync() async {
        if synced { return }
        await withCheckedContinuation { syncWaiters.append($0) }
    }

    /// Runs list+watch until cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                var listOptions = options
                listOptions.watch = false
                let list = try await client.list(resource, namespace: namespace, options: listOptions)
                let rv = list[path: ["metadata", "resourceVersion"]]?.stringValue
                var fresh: [String: JSONValue] = [:]
                for item in list["items"]?.arrayValue ?? [] {
                    var obj = item
                    obj["apiVersion"] = .string(resource.apiVersion)
                    obj["kind"] = .string(resource.kind)
                    fresh[Informer.key(obj)] = obj
                }
                for (k, old) in cache where fresh[k] == nil { await emit(.deleted(old)) }
                for (k, obj) in fresh {
                    if let old = cache[k] { if old != obj { cache[k] = obj; await emit(.updated(old: old, new: obj)) } }
                    else { cache[k] = obj; await emit(.added(obj)) }
                }
                cache = fresh
                if !synced {
                    synced = true
                    for w in syncWaiters { w.resume() }
                    syncWaiters = []
                }
                var watchOptions = options
                watchOptions.resourceVersion = rv
                watchOptions.allowWatchBookmarks = true
                let stream = try await client.watch(resource, namespace: namespace, options: watchOptions)
                for try await event in stream {
                    let obj = event.object
                    let k = Informer.key(obj)
                    switch event.type {
                    case "ADDED", "MODIFIED":
                        let old = cache[k]
                        cache[k] = obj
                        if let old { await emit(.updated(old: old, new: obj)) } else { await emit(.added(obj)) }
                    case "DELETED":
                        cache[k] = nil
                        await emit(.deleted(obj))
                    default: break
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.debug("list/watch of \(resource.resource) failed: \(error); retrying")
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    func emit(_ change: Change) async {
        for h in handlers { await h(change) }
    }
}
