import Foundation
import OrcaClient
import OrcaCore

/// The ConfigMaps and Secrets that pods' volumes project, read through a cache (the kubelet's
/// cache-based configMap and secret managers), so that a steady pod's syncs cost no API reads.
///
/// An object is read from the API when a pod that references it is set up for the first time
/// (a new pod sees the newest content), then at most once per `ttl` however many pods and syncs
/// use it. A failed read keeps serving the copy it has (the server may be unreachable: the
/// volumes stay as they are); a missing object is not cached (a pod waiting for it sees it as
/// soon as it exists). Objects no registered pod references any more are dropped.
actor VolumeSourceCache {
    enum Kind: String, Sendable {
        case configMap = "configmaps"
        case secret = "secrets"
    }

    struct Key: Hashable, Sendable {
        var kind: Kind
        var namespace: String
        var name: String
    }

    struct Item: Sendable {
        var object: JSONValue
        var fetchedAt: Date
    }

    /// How long a read serves before the next sync reads the object again.
    static let ttl: TimeInterval = 60

    /// Reads an object; nil when the API does not have it.
    let fetch: @Sendable (Key) async throws -> JSONValue?
    let clock: any WallClock
    private var items: [Key: Item] = [:]
    /// Pod UID → the objects its volumes reference.
    private var pods: [String: Set<Key>] = [:]
    /// Objects to read afresh on their next use (a new pod references them).
    private var stale: Set<Key> = []

    init(fetch: @escaping @Sendable (Key) async throws -> JSONValue?, clock: any WallClock) {
        self.fetch = fetch
        self.clock = clock
    }

    /// A cache that reads through `client`.
    init(client: any APIClient, clock: any WallClock) {
        self.init(fetch: { key in
            do {
                return try await client.get(client.resource(key.kind.rawValue), namespace: key.namespace, name: key.name)
            } catch let e as APIError where e.code == 404 {
                return nil
            }
        }, clock: clock)
    }

    /// Registers the objects a pod's volumes reference; the first time for a pod they are read
    /// afresh on their next use.
    func register(pod uid: String, references: Set<Key>) {
        guard pods[uid] != references else { return }
        if pods[uid] == nil { stale.formUnion(references) }
        pods[uid] = references
        dropUnreferenced()
    }

    /// Forgets a pod; objects no other pod references are dropped.
    func unregister(pod uid: String) {
        guard pods.removeValue(forKey: uid) != nil else { return }
        dropUnreferenced()
    }

    /// The object, from the cache while it is fresh, else from the API (the cached copy if that
    /// read fails). Nil when the API does not have it.
    func get(_ key: Key) async throws -> JSONValue? {
        let now = clock.now
        if let item = items[key], !stale.contains(key), now.timeIntervalSince(item.fetchedAt) < Self.ttl {
            return item.object
        }
        do {
            guard let object = try await fetch(key) else {
                items[key] = nil
                return nil
            }
            items[key] = Item(object: object, fetchedAt: clock.now)
            stale.remove(key)
            return object
        } catch {
            if let item = items[key] { return item.object }
            throw error
        }
    }

    /// How many objects are cached.
    var count: Int { items.count }

    private func dropUnreferenced() {
        let referenced = pods.values.reduce(into: Set<Key>()) { $0.formUnion($1) }
        for key in items.keys where !referenced.contains(key) { items[key] = nil }
        stale.formIntersection(referenced)
    }

    /// The ConfigMaps and Secrets a pod's volumes project (directly or through `projected`).
    static func references(_ pod: JSONValue) -> Set<Key> {
        let ns = pod.metadataNamespace ?? "default"
        var keys = Set<Key>()
        func add(_ source: JSONValue) {
            if let cm = source["configMap"], let name = cm["name"]?.stringValue {
                keys.insert(Key(kind: .configMap, namespace: ns, name: name))
            }
            if let s = source["secret"], let name = s["secretName"]?.stringValue ?? s["name"]?.stringValue {
                keys.insert(Key(kind: .secret, namespace: ns, name: name))
            }
        }
        for v in pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
            add(v)
            for source in v[path: ["projected", "sources"]]?.arrayValue ?? [] { add(source) }
        }
        return keys
    }
}
