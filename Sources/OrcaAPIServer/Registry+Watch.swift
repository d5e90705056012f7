import Foundation
import OrcaAPI
import OrcaStore

extension Registry {
    /// Watches objects of `r` (in `namespace`, or all) as Kubernetes does: from
    /// `resourceVersion` (exclusive), or — for unset/"0" — starting with synthetic ADDED
    /// events for the current objects. Objects that stop matching the selectors arrive
    /// as DELETED, ones that start matching as ADDED.
    ///
    /// A consumer that falls `WatchHub.bufferLimit` events behind is cut off, as
    /// kube-apiserver's cacher does: the stream just ends, and the client watches again
    /// from the last resourceVersion it saw (or re-lists).
    public func watch(_ r: ResourceType, namespace: String?, options: ListOptions) async throws -> AsyncThrowingStream<APIWatchEvent, any Error> {
        let prefix = r.storePrefix(namespace: namespace)
        var initial: [APIWatchEvent] = []
        var after: Int64
        let rv = options.resourceVersion.flatMap { Int64($0) }
        if options.sendInitialEvents == true || (options.sendInitialEvents == nil && (rv ?? 0) == 0) {
            var listOptions = options
            listOptions.limit = nil
            listOptions.continueToken = nil
            listOptions.resourceVersion = nil
            let list = try await self.list(r, namespace: namespace, options: listOptions)
            after = Int64(list[path: ["metadata", "resourceVersion"]]?.stringValue ?? "0") ?? 0
            initial = (list["items"]?.arrayValue ?? []).map { APIWatchEvent(type: "ADDED", object: $0) }
            if options.sendInitialEvents == true {
                var bookmark = bookmarkObject(r, revision: after)
                bookmark[path: ["metadata", "annotations"]] = ["k8s.io/initial-events-end": "true"]
                initial.append(APIWatchEvent(type: "BOOKMARK", object: bookmark))
            }
        } else if (rv ?? 0) == 0 {
            // sendInitialEvents=false with no resourceVersion: changes from now on.
            after = try await store.currentRevision()
        } else {
            after = rv!
            let compacted = try await store.compactedRevision()
            if after < compacted {
                throw APIError.gone("too old resource version: \(after) (\(compacted))")
            }
        }
        let source: AsyncThrowingStream<OrcaStore.WatchEvent, any Error>
        do {
            source = try await store.watch(prefix: prefix, afterRevision: after)
        } catch let e as OrcaError where e.code == .compacted {
            throw APIError.gone("too old resource version: \(after)")
        }
        // Pulled on demand, not forwarded by a task: the store's per-watcher buffer
        // (bounded, see `WatchHub`) stays the only place events wait for a slow consumer.
        let translator = APIWatchTranslator(registry: self, resource: r, initial: initial, source: source, options: options, after: after)
        return AsyncThrowingStream(unfolding: { try await translator.next() })
    }

    /// A store event as the API event of a watch on `r` with `options`, or nil when the object
    /// neither matched nor matches.
    func translate(_ event: OrcaStore.WatchEvent, _ r: ResourceType, options: ListOptions) async throws -> APIWatchEvent? {
        switch event {
        case .put(let kv, let previous):
            let obj = try await served(try decode(kv), as: r)
            let now = options.matches(obj)
            var before = false
            if let previous {
                // Labels are the same in every version: only field selectors need the old object converted.
                let old = try decode(previous)
                before = options.matches(options.fieldSelector.isEmpty ? old : try await served(old, as: r))
            }
            switch (previous != nil, before, now) {
            case (false, _, true): return APIWatchEvent(type: "ADDED", object: obj)
            case (true, true, true): return APIWatchEvent(type: "MODIFIED", object: obj)
            case (true, false, true): return APIWatchEvent(type: "ADDED", object: obj)
            case (true, true, false): return APIWatchEvent(type: "DELETED", object: obj)
            default: return nil
            }
        case .delete(let previous, let revision):
            var obj = try await served(try decode(previous), as: r)
            obj.resourceVersion = String(revision)
            return options.matches(obj) ? APIWatchEvent(type: "DELETED", object: obj) : nil
        }
    }

    /// The object of a BOOKMARK event.
    public func bookmarkObject(_ r: ResourceType, revision: Int64) -> JSONValue {
        ["apiVersion": .string(r.apiVersion), "kind": .string(r.kind), "metadata": ["resourceVersion": .string(String(revision))]]
    }
}

/// One API watch's consumer side: the initial events, then store events translated on
/// demand (one per `next()`), so no task drains the store's bounded buffer into an
/// unbounded one.
///
/// `@unchecked Sendable`: its mutable state is touched only by the task iterating the
/// stream, one `next()` at a time (AsyncThrowingStream's iterator contract).
private final class APIWatchTranslator: @unchecked Sendable {
    private let registry: Registry
    private let resource: ResourceType
    private let options: ListOptions
    private let after: Int64
    private var initial: [APIWatchEvent]
    private var initialIndex = 0
    private var source: AsyncThrowingStream<OrcaStore.WatchEvent, any Error>.AsyncIterator
    private var done = false

    init(registry: Registry, resource: ResourceType, initial: [APIWatchEvent], source: AsyncThrowingStream<OrcaStore.WatchEvent, any Error>,
         options: ListOptions, after: Int64) {
        self.registry = registry
        self.resource = resource
        self.initial = initial
        self.source = source.makeAsyncIterator()
        self.options = options
        self.after = after
    }

    func next() async throws -> APIWatchEvent? {
        if done { return nil }
        if initialIndex < initial.count {
            let event = initial[initialIndex]
            initialIndex += 1
            if initialIndex == initial.count {
                initial = []
                initialIndex = 0
            }
            return event
        }
        do {
            while let event = try await source.next() {
                if let out = try await registry.translate(event, resource, options: options) { return out }
            }
        } catch let e as OrcaError where e.code == .compacted {
            done = true
            throw APIError.gone("too old resource version: \(after)")
        } catch let e as OrcaError where e.code == .watcherTooSlow {
            // As the cacher closes a slow watcher: end the watch; the client re-watches.
            done = true
            return nil
        } catch {
            done = true
            throw error
        }
        done = true
        return nil
    }
}
