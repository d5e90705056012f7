import Logging
import OrcaAPI
import Synchronization

/// The loop of the API server's own controllers (CustomResourceDefinitions, RBAC): one pass
/// over the current state of some resources, then another whenever one of them changes
/// (changes that arrive during a pass are coalesced into one more pass), and every second
/// while a pass says work is still pending. Errors start it over after a second.
struct RegistryResyncLoop: Sendable {
    let registry: Registry
    let resources: [ResourceType]
    let logger: Logger

    /// Set by the watches, cleared by the pass that sees it.
    private final class Dirty: Sendable {
        let flag = Mutex(false)
        func mark() { flag.withLock { $0 = true } }
        func take() -> Bool {
            flag.withLock { value in
                let was = value
                value = false
                return was
            }
        }
    }

    /// Runs until cancelled. `pass` returns whether it left work to retry soon.
    func run(_ pass: @escaping @Sendable () async throws -> Bool) async {
        while !Task.isCancelled {
            do {
                var pending = try await pass()
                let revision = try await registry.store.currentRevision()
                var options = ListOptions()
                options.watch = true
                options.resourceVersion = String(revision)
                var feeds: [AsyncThrowingStream<APIWatchEvent, any Error>] = []
                for r in resources { feeds.append(try await registry.watch(r, namespace: nil, options: options)) }
                let dirty = Dirty()
                let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for feed in feeds {
                        group.addTask {
                            defer { wake.finish() }
                            for try await _ in feed {
                                dirty.mark()
                                wake.yield()
                            }
                        }
                    }
                    group.addTask {
                        while (try? await Task.sleep(for: .seconds(1))) != nil { wake.yield() }
                    }
                    for await _ in wakes where dirty.take() || pending {
                        pending = try await pass()
                    }
                    group.cancelAll()
                    try await group.waitForAll()
                }
            } catch where !Task.isCancelled {
                logger.warning("\(error); starting over")
                try? await Task.sleep(for: .seconds(1))
            } catch {
                return
            }
        }
    }
}

extension Registry {
    /// Every object of `r` as `T`, for the API server's own controllers; one that does not
    /// decode is left out and named in `logger`, so it never stops the others.
    func decodedItems<T: Decodable>(_ r: ResourceType, as type: T.Type = T.self, logger: Logger) async throws -> [T] {
        let list = try await self.list(r, namespace: nil, options: ListOptions())
        return (list["items"]?.arrayValue ?? []).compactMap { item in
            do { return try item.decode(T.self) } catch {
                logger.warning("\(r.resource) \(item.metadataNamespace.map { $0 + "/" } ?? "")\(item.metadataName ?? ""): \(error)")
                return nil
            }
        }
    }
}
