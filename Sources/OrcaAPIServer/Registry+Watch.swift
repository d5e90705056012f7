import Foundation
import OrcaAPI
import OrcaStore

/// One event of an API watch (`{"type": "ADDED", "object": {…}}`).
public struct APIWatchEvent: Sendable {
    public var type: String
    public var object: JSONValue

    public var json: JSONValue { .object(["type": .string(type), "object": object]) }
}

extension Registry {
    /// Watches objects of `r` (in `namespace`, or all) as Kubernetes does: from
    /// `resourceVersion` (exclusive), or — for unset/"0" — starting with synthetic ADDED
    /// events for the current objects. Objects that stop matching the selectors arrive
    /// as DELETED, ones that start matching as ADDED.
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
        let registry = self
        return AsyncThrowingStream { continuation in
            let task = Task {
                for e in initial { continuation.yield(e) }
                do {
                    for try await event in source {
                        if let out = try registry.translate(event, options: options) {
                            continuation.yield(out)
                        }
                    }
                    continuation.finish()
                } catch let e as OrcaError where e.code == .compacted {
                    continuation.finish(throwing: APIError.gone("too old resource version: \(after)"))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func translate(_ event: OrcaStore.WatchEvent, options: ListOptions) throws -> APIWatchEvent? {
        switch event {
        case .put(let kv, let previous):
            let obj = try decode(kv)
            let now = options.matches(obj)
            let before: Bool = try previous.map { options.matches(try decode($0)) } ?? false
            switch (previous != nil, before, now) {
            case (false, _, true): return APIWatchEvent(type: "ADDED", object: obj)
            case (true, true, true): return APIWatchEvent(type: "MODIFIED", object: obj)
            case (true, false, true): return APIWatchEvent(type: "ADDED", object: obj)
            case (true, true, false): return APIWatchEvent(type: "DELETED", object: obj)
            default: return nil
            }
        case .delete(let previous, let revision):
            var obj = try decode(previous)
            obj.resourceVersion = String(revision)
            return options.matches(obj) ? APIWatchEvent(type: "DELETED", object: obj) : nil
        }
    }

    /// The object of a BOOKMARK event.
    public func bookmarkObject(_ r: ResourceType, revision: Int64) -> JSONValue {
        ["apiVersion": .string(r.apiVersion), "kind": .string(r.kind), "metadata": ["resourceVersion": .string(String(revision))]]
    }
}
