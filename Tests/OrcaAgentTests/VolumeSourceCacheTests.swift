import Foundation
import OrcaClient
import OrcaCore
import Testing
@testable import OrcaAgent

/// The configMap/secret cache behind pods' volumes: a read per object per TTL, fresh for a new
/// pod, the last copy while the API fails, nothing cached for a missing object.
struct VolumeSourceCacheTests {
    typealias Key = VolumeSourceCache.Key
    static let config = Key(kind: .configMap, namespace: "default", name: "app-config")

    @Test func readsAnObjectOncePerTTLForEveryPodAndSync() async throws {
        let api = FakeObjectSource()
        let clock = ManualClock()
        let cache = VolumeSourceCache(fetch: { try await api.fetch($0) }, clock: clock)
        await api.set(Self.config, ["data": ["color": "blue"]])
        await cache.register(pod: "p1", references: [Self.config])
        for _ in 0..<5 { _ = try await cache.get(Self.config) }
        await cache.register(pod: "p1", references: [Self.config])
        _ = try await cache.get(Self.config)
        #expect(await api.reads == 1)
        await api.set(Self.config, ["data": ["color": "green"]])
        clock.advance(by: .seconds(59))
        #expect(try await cache.get(Self.config)?[path: ["data", "color"]] == "blue")
        clock.advance(by: .seconds(1))
        #expect(try await cache.get(Self.config)?[path: ["data", "color"]] == "green")
        #expect(await api.reads == 2)
    }

    @Test func aNewPodReadsItsObjectsAfresh() async throws {
        let api = FakeObjectSource()
        let cache = VolumeSourceCache(fetch: { try await api.fetch($0) }, clock: ManualClock())
        await api.set(Self.config, ["data": ["color": "blue"]])
        await cache.register(pod: "p1", references: [Self.config])
        _ = try await cache.get(Self.config)
        await api.set(Self.config, ["data": ["color": "green"]])
        await cache.register(pod: "p2", references: [Self.config])
        #expect(try await cache.get(Self.config)?[path: ["data", "color"]] == "green")
        #expect(await api.reads == 2)
    }

    @Test func aFailedReadServesTheLastCopy() async throws {
        let api = FakeObjectSource()
        let clock = ManualClock()
        let cache = VolumeSourceCache(fetch: { try await api.fetch($0) }, clock: clock)
        await api.set(Self.config, ["data": ["color": "blue"]])
        await cache.register(pod: "p1", references: [Self.config])
        _ = try await cache.get(Self.config)
        await api.setUnreachable(true)
        clock.advance(by: .seconds(120))
        #expect(try await cache.get(Self.config)?[path: ["data", "color"]] == "blue")
        let unknown = Key(kind: .secret, namespace: "default", name: "never-read")
        await #expect(throws: FakeObjectSource.Unreachable.self) { try await cache.get(unknown) }
    }

    @Test func aMissingObjectIsNotCached() async throws {
        let api = FakeObjectSource()
        let cache = VolumeSourceCache(fetch: { try await api.fetch($0) }, clock: ManualClock())
        await cache.register(pod: "p1", references: [Self.config])
        #expect(try await cache.get(Self.config) == nil)
        await api.set(Self.config, ["data": ["color": "blue"]])
        #expect(try await cache.get(Self.config)?[path: ["data", "color"]] == "blue")
    }

    @Test func objectsNoPodReferencesAreDropped() async throws {
        let api = FakeObjectSource()
        let cache = VolumeSourceCache(fetch: { try await api.fetch($0) }, clock: ManualClock())
        await api.set(Self.config, ["data": [:]])
        await cache.register(pod: "p1", references: [Self.config])
        await cache.register(pod: "p2", references: [Self.config])
        _ = try await cache.get(Self.config)
        await cache.unregister(pod: "p1")
        #expect(await cache.count == 1)
        await cache.unregister(pod: "p2")
        #expect(await cache.count == 0)
    }

    @Test func referencesComeFromDirectAndProjectedSources() throws {
        let pod = try JSONValue.parse(#"""
        {"metadata": {"namespace": "ns"}, "spec": {"volumes": [
          {"name": "a", "configMap": {"name": "cm"}},
          {"name": "b", "secret": {"secretName": "s"}},
          {"name": "c", "projected": {"sources": [{"configMap": {"name": "cm2"}}, {"secret": {"name": "s2"}}, {"downwardAPI": {}}]}},
          {"name": "d", "emptyDir": {}}
        ]}}
        """#)
        #expect(VolumeSourceCache.references(pod) == [
            Key(kind: .configMap, namespace: "ns", name: "cm"), Key(kind: .secret, namespace: "ns", name: "s"),
            Key(kind: .configMap, namespace: "ns", name: "cm2"), Key(kind: .secret, namespace: "ns", name: "s2"),
        ])
    }
}

/// Objects served from memory, counting reads; unreachable when told.
actor FakeObjectSource {
    struct Unreachable: Error {}
    private var objects: [VolumeSourceCache.Key: JSONValue] = [:]
    private(set) var reads = 0
    private var unreachable = false

    func set(_ key: VolumeSourceCache.Key, _ object: JSONValue) { objects[key] = object }
    func setUnreachable(_ value: Bool) { unreachable = value }

    func fetch(_ key: VolumeSourceCache.Key) throws -> JSONValue? {
        reads += 1
        if unreachable { throw Unreachable() }
        return objects[key]
    }
}
