import Foundation
import OrcaClient
import OrcaControllers
import OrcaCore
import Synchronization
import Testing

/// `HTTPSAPIClient` against a real `orca server`, reached with the kubeconfig it writes, as
/// a node agent or a controller on another machine reaches it: the same objects and
/// `APIError`s as the in-process client, watches, and an informer-driven controller.
@Suite(.serialized) struct HTTPSClientTests {
    @Test func typedReadsAndWrites() async throws {
        try await withServer { s, client in
            #expect(client.server.hasPrefix("https://127.0.0.1:"))
            try await client.create(Namespace(metadata: ObjectMeta(name: "https-crud")))
            let ns = "https-crud"
            let created = try await client.create(ConfigMap(data: ["a": "1"], metadata: ObjectMeta(labels: ["tier": "web"], name: "web", namespace: ns)))
            #expect(created.metadata?.uid?.isEmpty == false)
            #expect(created.metadata?.resourceVersion?.isEmpty == false)
            try await client.create(ConfigMap(data: ["a": "2"], metadata: ObjectMeta(labels: ["tier": "db"], name: "db", namespace: ns)))

            let got = try await client.get(ConfigMap.self, namespace: ns, name: "web")
            #expect(got.data == ["a": "1"])
            #expect(got.metadata?.uid == created.metadata?.uid)

            // Label selectors go as query parameters, rendered back to their string form.
            let web = try await client.list(ConfigMap.self, namespace: ns, selector: try LabelMatcher(parsing: "tier=web"))
            #expect(web.compactMap(\.metadata?.name) == ["web"])
            let notWeb = try await client.list(ConfigMap.self, namespace: ns, selector: try LabelMatcher(parsing: "tier notin (web),tier"))
            #expect(notWeb.compactMap(\.metadata?.name) == ["db"])
            let all = try await client.list(ConfigMap.self, namespace: ns)
            #expect(Set(all.compactMap(\.metadata?.name)).isSuperset(of: ["web", "db"]))
            var byName = ListOptions()
            byName.fieldSelector = try FieldMatcher(parsing: "metadata.name=db")
            let raw = try await client.list(client.resource(for: ConfigMap.self), namespace: ns, options: byName)
            #expect(raw["items"]?.arrayValue?.compactMap(\.metadataName) == ["db"])
            #expect(raw[path: ["metadata", "resourceVersion"]]?.stringValue?.isEmpty == false)

            // Update with optimistic concurrency: the second writer of the same version conflicts.
            var first = got
            first.data = ["a": "10"]
            let updated = try await client.update(first)
            #expect(updated.data == ["a": "10"])
            #expect(updated.metadata?.resourceVersion != got.metadata?.resourceVersion)
            var stale = got
            stale.data = ["a": "stale"]
            let conflict = await #expect(throws: APIError.self) { try await client.update(stale) }
            #expect(conflict?.isConflict == true)
            #expect(conflict?.code == 409 && conflict?.reason == "Conflict")
            #expect(conflict?.details?["name"]?.stringValue == "web")

            let patched = try await client.mergePatch(ConfigMap.self, namespace: ns, name: "web", patch: ["data": ["b": "2"]])
            #expect(patched.data == ["a": "10", "b": "2"])

            // Creating what exists: AlreadyExists.
            let exists = await #expect(throws: APIError.self) {
                try await client.create(ConfigMap(metadata: ObjectMeta(name: "web", namespace: ns)))
            }
            #expect(exists?.isAlreadyExists == true)

            // DeleteOptions: preconditions and dryRun go in the body.
            var wrongUID = DeletionOptions()
            wrongUID.preconditionUID = "not-the-uid"
            let precondition = await #expect(throws: APIError.self) {
                try await client.delete(ConfigMap.self, namespace: ns, name: "web", options: wrongUID, ignoreNotFound: false)
            }
            #expect(precondition?.isConflict == true)
            #expect(precondition?.message.contains("Precondition failed") == true)
            var dryRun = DeletionOptions()
            dryRun.dryRun = true
            try await client.delete(ConfigMap.self, namespace: ns, name: "web", options: dryRun, ignoreNotFound: false)
            #expect(try await client.get(ConfigMap.self, namespace: ns, name: "web").metadata?.uid == created.metadata?.uid)

            var rightUID = DeletionOptions()
            rightUID.preconditionUID = created.metadata?.uid
            rightUID.propagationPolicy = "Background"
            try await client.delete(ConfigMap.self, namespace: ns, name: "web", options: rightUID, ignoreNotFound: false)
            let missing = await #expect(throws: APIError.self) { try await client.get(ConfigMap.self, namespace: ns, name: "web") }
            #expect(missing?.isNotFound == true)
            #expect(missing?.reason == "NotFound")
            try await client.delete(ConfigMap.self, namespace: ns, name: "web")  // ignoreNotFound
            let again = await #expect(throws: APIError.self) {
                try await client.delete(ConfigMap.self, namespace: ns, name: "web", ignoreNotFound: false)
            }
            #expect(again?.isNotFound == true)

            // pods/binding with a v1 Binding (no agent runs, so nothing else binds it).
            try await client.create(Pod(metadata: ObjectMeta(name: "bound", namespace: ns),
                                        spec: PodSpec(containers: [Container(image: "busybox", name: "c")])))
            try await client.bind(namespace: ns, name: "bound", node: "node-https")
            let pod = try await client.get(Pod.self, namespace: ns, name: "bound")
            #expect(pod.spec?.nodeName == "node-https")
            let rebind = await #expect(throws: APIError.self) { try await client.bind(namespace: ns, name: "bound", node: "other") }
            #expect(rebind?.code == 409)
        }
    }

    @Test func invalidObjectCarriesItsCauses() async throws {
        try await withServer { _, client in
            let error = await #expect(throws: APIError.self) {
                try await client.create(ConfigMap(metadata: ObjectMeta(name: "Not_A_Name", namespace: "default")))
            }
            #expect(error?.code == 422)
            #expect(error?.reason == "Invalid")
            #expect(error?.message.contains("Not_A_Name") == true)
            let causes = error?.details?["causes"]?.arrayValue ?? []
            #expect(!causes.isEmpty)
            #expect(causes.first?["field"]?.stringValue == "metadata.name")
            #expect(causes.first?["reason"]?.stringValue == "FieldValueInvalid")
            #expect(error?.details?["kind"]?.stringValue == "ConfigMap")

            // A malformed selector is the server's 400, not a client-side failure.
            let configMaps = client.resource(for: ConfigMap.self)
            var bad = ListOptions()
            bad.fieldSelector = FieldMatcher(requirements: [FieldMatcher.Requirement(field: "spec.unknownField", equals: true, value: "x")])
            let badRequest = await #expect(throws: APIError.self) {
                _ = try await client.list(configMaps, namespace: "default", options: bad)
            }
            #expect(badRequest?.code == 400)
        }
    }

    @Test func watchSeesAddedModifiedDeleted() async throws {
        try await withServer { _, client in
            let configMaps = client.resource(for: ConfigMap.self)
            let list = try await client.list(configMaps, namespace: "default", options: ListOptions())
            var options = ListOptions()
            options.resourceVersion = list[path: ["metadata", "resourceVersion"]]?.stringValue
            options.fieldSelector = try FieldMatcher(parsing: "metadata.name=watched")
            options.allowWatchBookmarks = true
            // Long enough for a loaded CI machine: the loop ends at DELETED, not at the timeout.
            options.timeoutSeconds = 600
            let stream = try await client.watch(configMaps, namespace: "default", options: options)

            try await client.create(ConfigMap(metadata: ObjectMeta(name: "unwatched", namespace: "default")))
            let created = try await client.create(ConfigMap(data: ["v": "1"], metadata: ObjectMeta(name: "watched", namespace: "default")))
            try await client.mergePatch(ConfigMap.self, namespace: "default", name: "watched", patch: ["data": ["v": "2"]])
            try await client.delete(ConfigMap.self, namespace: "default", name: "watched", ignoreNotFound: false)

            var events: [APIWatchEvent] = []
            for try await event in stream where event.type != "BOOKMARK" {
                events.append(event)
                if event.type == "DELETED" || event.type == "ERROR" { break }
            }
            #expect(events.map(\.type) == ["ADDED", "MODIFIED", "DELETED"])
            #expect(events.allSatisfy { $0.object.metadataName == "watched" })
            #expect(events.first?.object.metadataUID == created.metadata?.uid)
            #expect(events.dropFirst().first?.object[path: ["data", "v"]]?.stringValue == "2")
            let revisions = events.compactMap { $0.object.resourceVersion.flatMap { Int64($0) } }
            #expect(revisions.count == 3 && revisions == revisions.sorted())

            // A revision compacted away: the watch starts, then reports 410 Expired as an ERROR
            // event carrying the Status, and ends (the reflector then lists again).
            let compact = try await client.rest.send(.POST, "/debug/orca/compact")
            try #require(compact.status == 200, "the test-only compaction endpoint: \(compact.text)")
            var old = ListOptions()
            old.resourceVersion = options.resourceVersion
            old.timeoutSeconds = 10
            var ended: [APIWatchEvent] = []
            for try await event in try await client.watch(configMaps, namespace: "default", options: old) { ended.append(event) }
            let gone = try #require(ended.last)
            #expect(gone.type == "ERROR")
            #expect(gone.object["kind"]?.stringValue == "Status")
            #expect(gone.object["code"]?.intValue == 410)
            #expect(gone.object["reason"]?.stringValue == "Expired")

            // An unknown field label is refused before the watch starts.
            var bad = ListOptions()
            bad.fieldSelector = FieldMatcher(requirements: [FieldMatcher.Requirement(field: "spec.nothing", equals: true, value: "x")])
            let refused = await #expect(throws: APIError.self) { _ = try await client.watch(configMaps, namespace: "default", options: bad) }
            #expect(refused?.code == 400)
        }
    }

    @Test func informerAndControllerOverHTTPS() async throws {
        try await withServer { _, client in
            let informer = SharedInformer<ConfigMap>(client: client, resource: client.resource(for: ConfigMap.self), namespace: "default")
            let updates = SeenUpdates()
            let queue = RateLimitingQueue()
            let enqueue: @Sendable (ConfigMap) async -> Void = { await queue.add(ObjectKey($0).description) }
            await informer.addEventHandler(InformerEventHandler(
                onAdd: enqueue,
                onUpdate: { _, new in
                    updates.record(new)
                    await enqueue(new)
                }))
            try await client.create(ConfigMap(data: ["color": "blue"], metadata: ObjectMeta(name: "before-sync", namespace: "default")))
            let controller = Controller(name: "https-seen", queue: queue,
                                        reconciler: MarkSeen(client: client, informer: informer),
                                        waitForSync: [{ await informer.waitForSync() }])
            let controllerTask = Task { await controller.run() }
            let informerTask = Task { await informer.run() }
            defer {
                informerTask.cancel()
                controllerTask.cancel()
            }

            try await eventually("the informer's first list") { await informer.hasSynced }
            #expect(await informer.get(namespace: "default", name: "before-sync")?.data?["color"] == "blue")

            // The informer sees an update made through the API (a merge patch: the controller
            // may be writing the same object).
            try await client.mergePatch(ConfigMap.self, namespace: "default", name: "before-sync", patch: ["data": ["color": "green"]])
            try await eventually("the informer seeing the update") {
                await informer.get(namespace: "default", name: "before-sync")?.data?["color"] == "green"
            }
            try await eventually("the update handler called") { updates.colors(of: "before-sync").contains("green") }

            // The controller reconciles both objects (one from the first list, one from the watch)
            // and writes through the HTTPS client; the informer sees its writes.
            try await client.create(ConfigMap(data: ["color": "red"], metadata: ObjectMeta(name: "after-sync", namespace: "default")))
            for name in ["before-sync", "after-sync"] {
                try await eventually("\(name) marked seen") {
                    await informer.get(namespace: "default", name: name)?.data?["seen"] == "true"
                }
                #expect(try await client.get(ConfigMap.self, namespace: "default", name: name).data?["seen"] == "true")
            }

            // A delete reaches the cache too.
            try await client.delete(ConfigMap.self, namespace: "default", name: "after-sync", ignoreNotFound: false)
            try await eventually("the informer dropping a deleted object") {
                await informer.get(namespace: "default", name: "after-sync") == nil
            }

            // After the store's history is compacted the informer still follows changes
            // (relisting if its watch is told 410).
            let compact = try await client.rest.send(.POST, "/debug/orca/compact")
            try #require(compact.status == 200, "the test-only compaction endpoint: \(compact.text)")
            try await client.mergePatch(ConfigMap.self, namespace: "default", name: "before-sync", patch: ["data": ["color": "after-compaction"]])
            try await eventually("the informer seeing a change after compaction") {
                await informer.get(namespace: "default", name: "before-sync")?.data?["color"] == "after-compaction"
            }

            informerTask.cancel()
            controllerTask.cancel()
            await informerTask.value
            await controllerTask.value
        }
    }

    // MARK: helpers

    /// The colors the update handler saw, per ConfigMap.
    final class SeenUpdates: Sendable {
        private let seen = Mutex<[String: [String]]>([:])

        func record(_ cm: ConfigMap) {
            seen.withLock { $0[cm.metadata?.name ?? "", default: []].append(cm.data?["color"] ?? "") }
        }

        func colors(of name: String) -> [String] { seen.withLock { $0[name] ?? [] } }
    }

    /// Marks the ConfigMaps with a `color` it reconciles with `data.seen=true`, reading the
    /// informer's cache (others, like `kube-root-ca.crt`, are not its business).
    struct MarkSeen: Reconciler {
        let client: HTTPSAPIClient
        let informer: SharedInformer<ConfigMap>

        func reconcile(_ key: String) async throws -> ReconcileResult {
            guard let cm = await informer.get(key), cm.data?["color"] != nil, cm.data?["seen"] == nil else { return .done }
            let k = ObjectKey(parsing: key)
            try await client.mergePatch(ConfigMap.self, namespace: k.namespace, name: k.name, patch: ["data": ["seen": "true"]])
            return .done
        }
    }

    /// Runs `body` against a fresh server and an `HTTPSAPIClient` built from its kubeconfig;
    /// the client is shut down and the server stopped however `body` ends.
    func withServer(_ body: (OrcaServerProcess, HTTPSAPIClient) async throws -> Void) async throws {
        setenv("ORCA_TEST_ENDPOINTS", "1", 1)  // POST /debug/orca/compact, as RawAPIAcceptanceTests does
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let client = try HTTPSAPIClient(kubeconfig: Kubeconfig(path: s.kubeconfig))
        do {
            try await body(s, client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// Polls `condition` until it holds; a deadline for liveness, not a timing assertion.
    func eventually(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw E2EError("timed out waiting for \(what)")
    }
}
