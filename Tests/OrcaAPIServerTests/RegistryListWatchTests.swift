import Foundation
import OrcaAPI
import OrcaStore
import Testing
@testable import OrcaAPIServer

/// Lists (paging, selectors, resourceVersion) and watches.
@Suite struct RegistryListWatchTests {
    static func names(_ list: JSONValue) -> [String] {
        (list["items"]?.arrayValue ?? []).compactMap(\.metadataName)
    }

    @Test func pagesWithLimitAndContinue() async throws {
        let c = try await TestCluster()
        for n in ["a", "b", "c", "d", "e"] { try await c.configMap(n) }
        var options = ListOptions()
        options.limit = 2
        var pages: [[String]] = []
        var versions: Set<String> = []
        while true {
            let page = try await c.registry.list(c.r("configmaps"), namespace: "default", options: options)
            pages.append(Self.names(page))
            versions.insert(page[path: ["metadata", "resourceVersion"]]?.stringValue ?? "")
            guard let token = page[path: ["metadata", "continue"]]?.stringValue else { break }
            options.continueToken = token
        }
        #expect(pages == [["a", "b"], ["c", "d"], ["e"]])
        #expect(versions.count == 1, "every page reads the snapshot of the first")
    }

    @Test func laterPagesReadTheFirstPagesSnapshot() async throws {
        let c = try await TestCluster()
        for n in ["a", "b", "c"] { try await c.configMap(n) }
        var options = ListOptions()
        options.limit = 2
        let first = try await c.registry.list(c.r("configmaps"), namespace: "default", options: options)
        try await c.configMap("bb")
        _ = try await c.registry.delete(c.r("configmaps"), namespace: "default", name: "c")
        options.continueToken = first[path: ["metadata", "continue"]]?.stringValue
        let second = try await c.registry.list(c.r("configmaps"), namespace: "default", options: options)
        #expect(Self.names(second) == ["c"])
    }

    /// (label selector, names listed)
    static let selectorCases: [(String, [String])] = [
        ("tier=web", ["a", "c"]),
        ("tier!=web", ["b", "d"]),
        ("tier in (web,db)", ["a", "b", "c"]),
        ("tier notin (web)", ["b", "d"]),
        ("tier", ["a", "b", "c"]),
        ("!tier", ["d"]),
        ("tier=web,env=prod", ["c"]),
    ]

    @Test(arguments: selectorCases)
    func labelSelectorsFilterEvenWhenPaging(selector: String, expected: [String]) async throws {
        let c = try await TestCluster()
        try await c.configMap("a", labels: ["tier": "web"])
        try await c.configMap("b", labels: ["tier": "db"])
        try await c.configMap("c", labels: ["tier": "web", "env": "prod"])
        try await c.configMap("d")
        var options = try ListOptions(query: ["labelSelector": selector])
        options.limit = 1
        var seen: [String] = []
        while true {
            let page = try await c.registry.list(c.r("configmaps"), namespace: "default", options: options)
            seen += Self.names(page)
            guard let token = page[path: ["metadata", "continue"]]?.stringValue else { break }
            options.continueToken = token
        }
        #expect(seen == expected)
    }

    @Test func fieldSelectorsFilter() async throws {
        let c = try await TestCluster(namespaces: ["default", "other"])
        try await c.configMap("a")
        _ = try await c.registry.create(c.r("configmaps"), namespace: "other", object: ["metadata": ["name": "b"]])
        let all = try await c.registry.list(c.r("configmaps"), namespace: nil, options: ListOptions())
        #expect(Self.names(all) == ["a", "b"])
        let other = try await c.registry.list(c.r("configmaps"), namespace: nil, options: try ListOptions(query: ["fieldSelector": "metadata.namespace=other"]))
        #expect(Self.names(other) == ["b"])
        let notA = try await c.registry.list(c.r("configmaps"), namespace: nil, options: try ListOptions(query: ["fieldSelector": "metadata.name!=a"]))
        #expect(Self.names(notA) == ["b"])
    }

    @Test func exactResourceVersionReadsThePastUntilCompacted() async throws {
        let c = try await TestCluster()
        let old = try await c.configMap("a")
        try await c.configMap("b")
        var options = ListOptions()
        options.resourceVersion = old.resourceVersion
        options.resourceVersionMatch = "Exact"
        let past = try await c.registry.list(c.r("configmaps"), namespace: "default", options: options)
        #expect(Self.names(past) == ["a"])
        #expect(past[path: ["metadata", "resourceVersion"]]?.stringValue == old.resourceVersion)

        try await c.store.compact(revision: try await c.store.currentRevision())
        let e = await apiError { _ = try await c.registry.list(c.r("configmaps"), namespace: "default", options: options) }
        #expect(e?.code == 410)
        #expect(e?.reason == "Expired")
    }

    @Test func continueTokensExpireWithCompaction() async throws {
        let c = try await TestCluster()
        for n in ["a", "b", "c"] { try await c.configMap(n) }
        var options = ListOptions()
        options.limit = 1
        let first = try await c.registry.list(c.r("configmaps"), namespace: "default", options: options)
        try await c.configMap("d")
        try await c.store.compact(revision: try await c.store.currentRevision())
        options.continueToken = first[path: ["metadata", "continue"]]?.stringValue
        let e = await apiError { _ = try await c.registry.list(c.r("configmaps"), namespace: "default", options: options) }
        #expect(e?.code == 410)
        #expect(e?.message.hasPrefix("The provided continue parameter is too old") == true)
    }

    @Test func futureResourceVersionIsTooLarge() async throws {
        let c = try await TestCluster()
        var options = ListOptions()
        options.resourceVersion = "999999"
        let e = await apiError { _ = try await c.registry.list(c.r("configmaps"), namespace: "default", options: options) }
        #expect(e?.code == 504)
        #expect(e?.message.hasPrefix("Too large resource version: 999999") == true)
    }

    @Test func badContinueTokenIsBadRequest() async throws {
        let c = try await TestCluster()
        var options = ListOptions()
        options.continueToken = "%%%"
        let e = await apiError { _ = try await c.registry.list(c.r("configmaps"), namespace: "default", options: options) }
        #expect(e?.code == 400)
    }

    // MARK: watch

    /// Collects `count` events from a watch.
    static func take(_ count: Int, from stream: AsyncThrowingStream<APIWatchEvent, any Error>) async throws -> [APIWatchEvent] {
        var out: [APIWatchEvent] = []
        var it = stream.makeAsyncIterator()
        while out.count < count, let e = try await it.next() { out.append(e) }
        return out
    }

    @Test func watchFromAResourceVersionSeesEveryChange() async throws {
        let c = try await TestCluster()
        let cms = c.r("configmaps")
        let start = try await c.configMap("seed")
        var options = ListOptions()
        options.resourceVersion = start.resourceVersion
        let stream = try await c.registry.watch(cms, namespace: "default", options: options)
        let a = try await c.configMap("a")
        var changed = a
        changed["data"] = ["k": "2"]
        let modified = try await c.registry.update(cms, namespace: "default", name: "a", object: changed)
        _ = try await c.registry.delete(cms, namespace: "default", name: "a")
        let events = try await Self.take(3, from: stream)
        #expect(events.map(\.type) == ["ADDED", "MODIFIED", "DELETED"])
        #expect(events.map { $0.object.metadataName } == ["a", "a", "a"])
        #expect(events[1].object.resourceVersion == modified.resourceVersion)
        let deletedRV = Int64(events[2].object.resourceVersion ?? "") ?? 0
        #expect(deletedRV > Int64(modified.resourceVersion!)!, "DELETED carries the deletion's revision")
    }

    @Test func watchWithoutResourceVersionStartsWithTheCurrentObjects() async throws {
        let c = try await TestCluster()
        try await c.configMap("a")
        try await c.configMap("b")
        let stream = try await c.registry.watch(c.r("configmaps"), namespace: "default", options: ListOptions())
        try await c.configMap("c")
        let events = try await Self.take(3, from: stream)
        #expect(events.map(\.type) == ["ADDED", "ADDED", "ADDED"])
        #expect(events.map { $0.object.metadataName } == ["a", "b", "c"])
    }

    @Test func selectorTransitionsArriveAsAddedAndDeleted() async throws {
        let c = try await TestCluster()
        let cms = c.r("configmaps")
        let seed = try await c.configMap("x", labels: ["tier": "db"])
        var options = try ListOptions(query: ["labelSelector": "tier=web"])
        options.resourceVersion = seed.resourceVersion
        let stream = try await c.registry.watch(cms, namespace: "default", options: options)
        var obj = seed
        obj[path: ["metadata", "labels", "tier"]] = "web"
        obj = try await c.registry.update(cms, namespace: "default", name: "x", object: obj)   // starts matching
        obj["data"] = ["k": "changed"]
        obj = try await c.registry.update(cms, namespace: "default", name: "x", object: obj)   // still matching
        obj[path: ["metadata", "labels", "tier"]] = "db"
        obj = try await c.registry.update(cms, namespace: "default", name: "x", object: obj)   // stops matching
        obj["data"] = ["k": "unseen"]
        _ = try await c.registry.update(cms, namespace: "default", name: "x", object: obj)     // not matching: nothing
        try await c.configMap("y", labels: ["tier": "web"])
        let events = try await Self.take(4, from: stream)
        #expect(events.map(\.type) == ["ADDED", "MODIFIED", "DELETED", "ADDED"])
        #expect(events.map { $0.object.metadataName } == ["x", "x", "x", "y"])
    }

    @Test func watchFromACompactedRevisionIsGone() async throws {
        let c = try await TestCluster()
        let old = try await c.configMap("a")
        try await c.configMap("b")
        try await c.store.compact(revision: try await c.store.currentRevision())
        var options = ListOptions()
        options.resourceVersion = old.resourceVersion
        let e = await apiError { _ = try await c.registry.watch(c.r("configmaps"), namespace: "default", options: options) }
        #expect(e?.code == 410)
        #expect(e?.message.hasPrefix("too old resource version: \(old.resourceVersion!)") == true)
    }

    @Test func watchesOfOneNamespaceSeeOnlyIt() async throws {
        let c = try await TestCluster(namespaces: ["default", "other"])
        let seed = try await c.configMap("seed")
        var options = ListOptions()
        options.resourceVersion = seed.resourceVersion
        let stream = try await c.registry.watch(c.r("configmaps"), namespace: "default", options: options)
        _ = try await c.registry.create(c.r("configmaps"), namespace: "other", object: ["metadata": ["name": "elsewhere"]])
        try await c.configMap("here")
        let events = try await Self.take(1, from: stream)
        #expect(events.map { $0.object.metadataName } == ["here"])
    }
}
