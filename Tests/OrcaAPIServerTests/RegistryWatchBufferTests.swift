import Foundation
import OrcaAPI
import OrcaStore
import Testing
@testable import OrcaAPIServer

/// An API watch whose consumer falls a whole buffer behind ends (the client watches
/// again, as with kube-apiserver's cacher); the initial events do not count.
@Suite struct RegistryWatchBufferTests {
    @Test func aStalledWatchEndsCleanlyAfterItsInitialEvents() async throws {
        let c = try await TestCluster()
        let limit = WatchHub.defaultBufferLimit
        let initial = limit + 10
        for i in 0..<initial { try await c.configMap("initial-\(i)") }
        // No resourceVersion: the watch starts with ADDED events for every current object,
        // more than the buffer holds.
        let stalled = try await c.registry.watch(c.r("configmaps"), namespace: "default", options: ListOptions())
        #expect(c.store.watcherCount == 1)
        for i in 0...limit { try await c.configMap("later-\(i)") }
        #expect(c.store.watcherCount == 0, "the stalled watcher is closed and forgotten")

        var names: [String] = []
        for try await event in stalled {  // ends without an error
            #expect(event.type == "ADDED")
            names.append(event.object.metadataName ?? "")
        }
        #expect(names.count == initial)
        #expect(names.allSatisfy { $0.hasPrefix("initial-") })
    }
}
