import Foundation
import Testing

/// Issue 3's acceptance list on the raw REST API: `kubectl get --raw` and curl with the
/// admin client certificate against a real `orca server --disable-agent`.
@Suite(.serialized) struct RawAPIAcceptanceTests {
    static let configMaps = "/api/v1/namespaces/default/configmaps"

    @Test func pagingAndResourceVersions() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let api = try RawAPI(s)
        var made: [String] = []
        for _ in 0..<5 {
            let r = try api.post(Self.configMaps, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"page-","labels":{"set":"paged"}}}"#)
            #expect(r.code == 201)
            let name = try #require(r.json.string("metadata", "name"))
            #expect(name.hasPrefix("page-") && name.count == "page-".count + 5)
            #expect(r.json.string("metadata", "generateName") == "page-")
            #expect(UUID(uuidString: r.json.string("metadata", "uid") ?? "") != nil)
            #expect(ISO8601DateFormatter().date(from: r.json.string("metadata", "creationTimestamp") ?? "") != nil)
            made.append(name)
        }
        // limit/continue: pages of two, consistent, no duplicates, the last one without continue.
        var seen: [String] = []
        var token: String? = nil
        var pages = 0
        var pageRV: String? = nil
        repeat {
            let path = "\(Self.configMaps)?labelSelector=set%3Dpaged&limit=2" + (token.map { "&continue=\($0)" } ?? "")
            let page = try JSONSerialization.jsonObject(with: Data(try s.k("get", "--raw", path).utf8)) as? [String: Any] ?? [:]
            #expect(page.items.count <= 2)
            seen += page.names
            if pageRV == nil { pageRV = page.string("metadata", "resourceVersion") }
            #expect(page.string("metadata", "resourceVersion") == pageRV, "every page is read at the first page's revision")
            token = page.string("metadata", "continue").flatMap { $0.isEmpty ? nil : $0 }
            token = token?.addingPercentEncoding(withAllowedCharacters: .alphanumerics)
            pages += 1
            // A change between pages does not show up in the paged list.
            if pages == 1 { _ = try api.post(Self.configMaps, #"{"metadata":{"name":"zz-late","labels":{"set":"paged"}}}"#) }
        } while token != nil && pages < 10
        #expect(pages == 3)
        #expect(seen == made.sorted())
        let bad = try api.get("\(Self.configMaps)?limit=2&continue=not-a-token")
        #expect(bad.code == 400 && bad.json.string("reason") == "BadRequest")

        // resourceVersion + resourceVersionMatch.
        let before = try api.get(Self.configMaps)
        let rv1 = try #require(before.json.string("metadata", "resourceVersion"))
        _ = try api.post(Self.configMaps, #"{"metadata":{"name":"after-rv1"}}"#)
        let exact = try api.get("\(Self.configMaps)?resourceVersion=\(rv1)&resourceVersionMatch=Exact")
        #expect(exact.code == 200 && exact.json.string("metadata", "resourceVersion") == rv1)
        #expect(!exact.json.names.contains("after-rv1") && exact.json.names.contains("zz-late"))
        let notOlder = try api.get("\(Self.configMaps)?resourceVersion=\(rv1)&resourceVersionMatch=NotOlderThan")
        #expect(notOlder.json.names.contains("after-rv1"))
        let any = try api.get("\(Self.configMaps)?resourceVersion=0")
        #expect(any.code == 200 && any.json.names.contains("after-rv1"))
        let future = try api.get("\(Self.configMaps)?resourceVersion=99999999&resourceVersionMatch=Exact")
        #expect(future.code == 504)
        let noRV = try api.get("\(Self.configMaps)?resourceVersionMatch=Exact")
        #expect(noRV.code == 422 && noRV.json.string("reason") == "Invalid")
        // Single objects carry their own resourceVersion.
        let one = try api.get("\(Self.configMaps)/after-rv1")
        #expect(Int(one.json.string("metadata", "resourceVersion") ?? "") ?? 0 > Int(rv1) ?? 0)
    }

    @Test func watchWithBookmarksTimeoutAndGone() throws {
        setenv("ORCA_TEST_ENDPOINTS", "1", 1)
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let api = try RawAPI(s)
        let rv0 = try #require(try api.get(Self.configMaps).json.string("metadata", "resourceVersion"))
        _ = try api.post(Self.configMaps, #"{"metadata":{"name":"w1"}}"#)
        _ = try api.call("PATCH", "\(Self.configMaps)/w1", body: #"{"data":{"a":"b"}}"#, contentType: "application/merge-patch+json")
        _ = try api.call("DELETE", "\(Self.configMaps)/w1")
        // From rv0: the three changes in order, then (bookmarks allowed) a BOOKMARK before the
        // server ends the watch at timeoutSeconds.
        let events = try api.watch("\(Self.configMaps)?watch=true&resourceVersion=\(rv0)&allowWatchBookmarks=true&timeoutSeconds=4")
        let changes = events.filter { $0.string("object", "metadata", "name") == "w1" }.compactMap { $0.string("type") }
        #expect(changes == ["ADDED", "MODIFIED", "DELETED"])
        let bookmark = try #require(events.first { $0.string("type") == "BOOKMARK" }, "no BOOKMARK in \(events)")
        #expect(bookmark.string("object", "kind") == "ConfigMap")
        #expect(Int(bookmark.string("object", "metadata", "resourceVersion") ?? "") ?? 0 >= Int(rv0) ?? 0)
        // Without allowWatchBookmarks there is none.
        let plain = try api.watch("\(Self.configMaps)?watch=true&resourceVersion=\(rv0)&timeoutSeconds=3")
        #expect(!plain.contains { $0.string("type") == "BOOKMARK" })
        // With kubectl get --raw too, and watch-list (sendInitialEvents) ends its initial list with a bookmark.
        let raw = try s.k("get", "--raw", "\(Self.configMaps)?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=2")
        #expect(raw.contains("\"k8s.io/initial-events-end\":\"true\""))

        // 410 Gone once history is compacted.
        _ = try api.post(Self.configMaps, #"{"metadata":{"name":"w2"}}"#)
        let paged = try api.get("\(Self.configMaps)?limit=1")
        let token = try #require(paged.json.string("metadata", "continue")?.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        _ = try api.post(Self.configMaps, #"{"metadata":{"name":"w2b"}}"#)
        let compact = try api.call("POST", "/debug/orca/compact")
        try #require(compact.code == 200, "the test-only compaction endpoint: \(compact.text)")
        let old = try api.get("\(Self.configMaps)?resourceVersion=\(rv0)&resourceVersionMatch=Exact")
        #expect(old.code == 410 && old.json.string("reason") == "Expired")
        let oldPage = try api.get("\(Self.configMaps)?limit=1&continue=\(token)")
        #expect(oldPage.code == 410 && oldPage.json.string("reason") == "Expired")
        // The 410 carries a token that continues (inconsistently) from the same key at the latest revision.
        let again = try #require(oldPage.json.string("metadata", "continue")?.addingPercentEncoding(withAllowedCharacters: .alphanumerics),
                                 "\(oldPage.text)")
        let rest = try api.get("\(Self.configMaps)?limit=100&continue=\(again)")
        #expect(rest.code == 200, "\(rest.text)")
        let firstPage = try #require(paged.json.names.first)
        #expect(rest.json.names.contains("w2b") && !rest.json.names.contains(firstPage), "\(rest.json.names)")
        let oldWatch = try api.watch("\(Self.configMaps)?watch=true&resourceVersion=\(rv0)&timeoutSeconds=5")
        let error = try #require(oldWatch.last)
        #expect(error.string("type") == "ERROR")
        #expect(error[path: "object", "code"] as? Int == 410)
        // A watch from now on still works.
        let fresh = try api.get(Self.configMaps).json.string("metadata", "resourceVersion") ?? ""
        _ = try api.post(Self.configMaps, #"{"metadata":{"name":"w3"}}"#)
        let after = try api.watch("\(Self.configMaps)?watch=true&resourceVersion=\(fresh)&timeoutSeconds=2")
        #expect(after.contains { $0.string("type") == "ADDED" && $0.string("object", "metadata", "name") == "w3" })
    }

    @Test func metadataGenerationFinalizersAndDryRun() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let api = try RawAPI(s)
        let deployments = "/apis/apps/v1/namespaces/default/deployments"
        let deploy = #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"gen"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"gen"}},"template":{"metadata":{"labels":{"app":"gen"}},"spec":{"containers":[{"name":"c","image":"docker.io/library/busybox:1.35"}]}}}}"#
        let created = try api.post(deployments, deploy)
        #expect(created.code == 201)
        #expect(created.json[path: "metadata", "generation"] as? Int == 1)
        let uid = created.json.string("metadata", "uid")
        func generation() throws -> Int? { try api.get("\(deployments)/gen").json[path: "metadata", "generation"] as? Int }
        _ = try api.call("PATCH", "\(deployments)/gen", body: #"{"metadata":{"labels":{"x":"1"}}}"#, contentType: "application/merge-patch+json")
        #expect(try generation() == 1, "a metadata change keeps generation")
        _ = try api.call("PATCH", "\(deployments)/gen/status", body: #"{"status":{"observedGeneration":1,"replicas":0}}"#, contentType: "application/merge-patch+json")
        #expect(try generation() == 1, "a status change keeps generation")
        _ = try api.call("PATCH", "\(deployments)/gen", body: #"{"spec":{"replicas":3}}"#, contentType: "application/merge-patch+json")
        #expect(try generation() == 2, "a spec change bumps generation")
        let same = try api.call("PATCH", "\(deployments)/gen", body: #"{"spec":{"replicas":3}}"#, contentType: "application/merge-patch+json")
        #expect(same.json[path: "metadata", "generation"] as? Int == 2, "a no-op patch keeps generation")
        #expect(try api.get("\(deployments)/gen").json.string("metadata", "uid") == uid)
        #expect(try api.get("\(deployments)/gen").json.string("metadata", "creationTimestamp") == created.json.string("metadata", "creationTimestamp"))

        // dryRun=All: validated and answered, never stored.
        let dryCreate = try api.post("\(Self.configMaps)?dryRun=All", #"{"metadata":{"name":"dry"},"data":{"k":"v"}}"#)
        #expect(dryCreate.code == 201 && dryCreate.json.string("metadata", "name") == "dry")
        #expect(try api.get("\(Self.configMaps)/dry").code == 404)
        let dryInvalid = try api.post("\(Self.configMaps)?dryRun=All", #"{"metadata":{"name":"Not_Valid"}}"#)
        #expect(dryInvalid.code == 422)
        _ = try api.post(Self.configMaps, #"{"metadata":{"name":"real"},"data":{"k":"v"}}"#)
        let dryPatch = try api.call("PATCH", "\(Self.configMaps)/real?dryRun=All", body: #"{"data":{"k":"changed"}}"#, contentType: "application/merge-patch+json")
        #expect(dryPatch.code == 200 && dryPatch.json.string("data", "k") == "changed")
        #expect(try api.get("\(Self.configMaps)/real").json.string("data", "k") == "v")
        let dryPut = try api.call("PUT", "\(Self.configMaps)/real?dryRun=All", body: #"{"metadata":{"name":"real"},"data":{"k":"put"}}"#)
        #expect(dryPut.code == 200)
        #expect(try api.get("\(Self.configMaps)/real").json.string("data", "k") == "v")
        #expect(try api.call("DELETE", "\(Self.configMaps)/real?dryRun=All").code == 200)
        #expect(try api.get("\(Self.configMaps)/real").code == 200)

        // Finalizers: DELETE marks the object; it goes when the last finalizer is removed.
        _ = try api.post(Self.configMaps, #"{"metadata":{"name":"fin","finalizers":["e2e.orca.dev/hold"]}}"#)
        let marked = try api.call("DELETE", "\(Self.configMaps)/fin")
        #expect(marked.code == 200 || marked.code == 202)
        #expect(marked.json.string("metadata", "deletionTimestamp") != nil)
        let still = try api.get("\(Self.configMaps)/fin")
        #expect(still.code == 200 && still.json.string("metadata", "deletionTimestamp") != nil)
        let unchangedMark = try api.call("DELETE", "\(Self.configMaps)/fin")
        #expect(unchangedMark.json.string("metadata", "deletionTimestamp") == still.json.string("metadata", "deletionTimestamp"))
        let release = try api.call("PATCH", "\(Self.configMaps)/fin", body: #"{"metadata":{"finalizers":null}}"#, contentType: "application/merge-patch+json")
        #expect(release.code == 200)
        #expect(try api.get("\(Self.configMaps)/fin").code == 404)
    }

    @Test func eventsThroughBothAPIs() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let api = try RawAPI(s)
        let coreEvents = "/api/v1/namespaces/default/events"
        let newEvents = "/apis/events.k8s.io/v1/namespaces/default/events"
        let core = try api.post(coreEvents, #"{"metadata":{"name":"ev.core"},"involvedObject":{"kind":"Pod","name":"p","namespace":"default"},"reason":"Pulled","message":"core message","type":"Normal","count":2,"source":{"component":"kubelet"}}"#)
        #expect(core.code == 201 && core.json.string("message") == "core message")
        let v1 = try api.post(newEvents, #"{"metadata":{"name":"ev.new"},"regarding":{"kind":"Pod","name":"p","namespace":"default"},"reason":"Started","note":"new message","type":"Normal","action":"Start","reportingController":"e2e/ctl","reportingInstance":"i-1","eventTime":"2026-01-02T03:04:05.000000Z"}"#)
        #expect(v1.code == 201 && v1.json.string("apiVersion") == "events.k8s.io/v1" && v1.json.string("note") == "new message")
        // One storage, two shapes.
        let asCore = try api.get("\(coreEvents)/ev.new")
        #expect(asCore.json.string("message") == "new message" && asCore.json.string("reportingComponent") == "e2e/ctl")
        #expect(asCore.json.string("involvedObject", "name") == "p")
        let asNew = try api.get("\(newEvents)/ev.core")
        #expect(asNew.json.string("note") == "core message" && asNew.json[path: "deprecatedCount"] as? Int == 2)
        #expect(asNew.json.string("deprecatedSource", "component") == "kubelet")
        let list = try api.get("\(newEvents)?fieldSelector=regarding.name%3Dp")
        #expect(list.json.string("kind") == "EventList" && Set(list.json.names) == ["ev.core", "ev.new"])
        // events.k8s.io/v1 requires its own fields on create.
        let incomplete = try api.post(newEvents, #"{"metadata":{"name":"ev.bad"},"regarding":{"kind":"Pod","name":"p"},"note":"x","type":"Normal"}"#)
        #expect(incomplete.code == 422)
        #expect((incomplete.json[path: "details", "causes"] as? [[String: Any]] ?? []).contains { $0.string("field") == "reportingController" })
        // Patch and delete through the new API change the same object.
        let patched = try api.call("PATCH", "\(newEvents)/ev.core", body: #"{"note":"patched"}"#, contentType: "application/merge-patch+json")
        #expect(patched.code == 200 && patched.json.string("note") == "patched")
        #expect(try api.get("\(coreEvents)/ev.core").json.string("message") == "patched")
        #expect(try api.call("DELETE", "\(newEvents)/ev.core").code == 200)
        #expect(try api.get("\(coreEvents)/ev.core").code == 404)
    }

    @Test func http2AndStatusErrors() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        let api = try RawAPI(s)
        let version = try OrcaServerProcess.run("/usr/bin/curl", ["-sS", "--http2", "-o", "/dev/null", "-w", "%{http_version}"] + api.tls + [api.server + "/api/v1/namespaces"])
        #expect(version.out == "2")
        let h1 = try OrcaServerProcess.run("/usr/bin/curl", ["-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_version}"] + api.tls + [api.server + "/api/v1/namespaces"])
        #expect(h1.out == "1.1")

        func expectStatus(_ r: RawAPI.Reply, _ code: Int, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(r.code == code, "\(r.text)", sourceLocation: sourceLocation)
            #expect(r.json.string("kind") == "Status" && r.json.string("apiVersion") == "v1", sourceLocation: sourceLocation)
            #expect(r.json.string("status") == "Failure" && r.json.string("reason") == reason, sourceLocation: sourceLocation)
            #expect(r.json["code"] as? Int == code, sourceLocation: sourceLocation)
        }
        // 422 Invalid with details.causes.
        let invalid = try api.post("/api/v1/namespaces/default/pods", #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"Bad_Name"},"spec":{"containers":[{"name":"c"}]}}"#)
        expectStatus(invalid, 422, "Invalid")
        #expect(invalid.json.string("details", "kind") == "Pod" && invalid.json.string("details", "name") == "Bad_Name")
        let causes = invalid.json[path: "details", "causes"] as? [[String: Any]] ?? []
        #expect(causes.contains { $0.string("field") == "metadata.name" && $0.string("reason") == "FieldValueInvalid" })
        #expect(causes.contains { $0.string("field") == "spec.containers[0].image" && $0.string("reason") == "FieldValueRequired" })
        // 409 AlreadyExists and 409 Conflict on a stale resourceVersion.
        let first = try api.post(Self.configMaps, #"{"metadata":{"name":"taken"}}"#)
        let dup = try api.post(Self.configMaps, #"{"metadata":{"name":"taken"}}"#)
        expectStatus(dup, 409, "AlreadyExists")
        #expect(dup.json.string("details", "name") == "taken" && dup.json.string("details", "kind") == "configmaps")
        let staleRV = try #require(first.json.string("metadata", "resourceVersion"))
        _ = try api.call("PUT", "\(Self.configMaps)/taken", body: #"{"metadata":{"name":"taken","resourceVersion":"\#(staleRV)"},"data":{"v":"1"}}"#)
        let stale = try api.call("PUT", "\(Self.configMaps)/taken", body: #"{"metadata":{"name":"taken","resourceVersion":"\#(staleRV)"},"data":{"v":"2"}}"#)
        expectStatus(stale, 409, "Conflict")
        #expect(stale.json.string("message")?.contains("the object has been modified") == true)
        let stalePatch = try api.call("PATCH", "\(Self.configMaps)/taken", body: #"{"metadata":{"resourceVersion":"\#(staleRV)"},"data":{"v":"3"}}"#, contentType: "application/merge-patch+json")
        expectStatus(stalePatch, 409, "Conflict")
        // 404 for a missing object, namespace and resource.
        let missing = try api.get("\(Self.configMaps)/missing")
        expectStatus(missing, 404, "NotFound")
        #expect(missing.json.string("message") == "configmaps \"missing\" not found")
        expectStatus(try api.post("/api/v1/namespaces/nowhere/configmaps", #"{"metadata":{"name":"x"}}"#), 404, "NotFound")
        expectStatus(try api.get("/api/v1/widgets"), 404, "NotFound")
        // 400 for malformed JSON and YAML, and for a body of the wrong kind.
        expectStatus(try api.post(Self.configMaps, #"{"metadata":{"name":"#), 400, "BadRequest")
        expectStatus(try api.post(Self.configMaps, "metadata:\n  name: [unclosed\n", contentType: "application/yaml"), 400, "BadRequest")
        expectStatus(try api.post(Self.configMaps, #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#), 400, "BadRequest")
        let yamlOK = try api.post(Self.configMaps, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: \"1\"\n", contentType: "application/yaml")
        #expect(yamlOK.code == 201 && yamlOK.json.string("data", "a") == "1")
        // 405 for a verb the endpoint lacks; 401 without credentials.
        expectStatus(try api.call("PUT", Self.configMaps, body: "{}"), 405, "MethodNotAllowed")
        let anonymous = try OrcaServerProcess.run("/usr/bin/curl", ["-sS", "--cacert", s.dataDir + "/tls/ca.crt", api.server + Self.configMaps])
        #expect(anonymous.out.contains("\"code\":401"))
        // kubectl shows the Status message.
        let viaKubectl = try s.kubectl(["get", "cm", "missing"])
        #expect(viaKubectl.err.contains("Error from server (NotFound): configmaps \"missing\" not found"))
    }
}
