import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Custom resources of a definition with several versions: stored in the storage version,
/// served in the version asked for (`None` conversion rewrites `apiVersion`, then the target
/// version's schema prunes and defaults), and the checks on a conversion webhook's answer.
struct CustomResourceVersionTests {
    typealias Harness = CustomResourceDefinitionTests.Harness

    /// v1 stores; v2 is served too, with a schema of its own (`spec.suspend` defaults to false).
    static func twoVersions(storage: String = "v1") -> JSONValue {
        let v2Schema = json("""
        {"type": "object", "properties": {"spec": {"type": "object", "properties": {
          "cronSpec": {"type": "string"}, "image": {"type": "string"},
          "suspend": {"type": "boolean", "default": false}}}}}
        """)
        var d = CustomResourceDefinitionTests.definition(extraVersion: [
            "name": "v2", "served": true, "storage": .bool(storage == "v2"), "schema": ["openAPIV3Schema": v2Schema],
        ])
        CustomResourceDefinitionTests.firstVersion(&d) { $0["storage"] = .bool(storage == "v1") }
        return d
    }

    @Test func objectsAreStoredInTheStorageVersionAndServedInTheOneAskedFor() async throws {
        let h = try await Harness()
        try await h.establish(Self.twoVersions())
        let v1 = try h.crontabs("v1"), v2 = try h.crontabs("v2")
        // Created through v2: answered in v2, stored in v1.
        var body = h.crontab("b", ["cronSpec": "* * * * *", "image": "img"])
        body["apiVersion"] = "stable.example.com/v2"
        let created = try await h.registry.create(v2, namespace: "default", object: body)
        #expect(created.apiVersion == "stable.example.com/v2")
        #expect(created[path: ["spec", "suspend"]] == false)
        let stored = try #require(try await h.registry.store.get(v1.storeKey(namespace: "default", name: "b"), revision: nil))
        #expect(try JSONValue.parse(stored.value).apiVersion == "stable.example.com/v1")
        // Created through v1: read through v2 it gets v2's apiVersion and defaults; v1's are kept.
        _ = try await h.registry.create(v1, namespace: "default", object: h.crontab("a", ["cronSpec": "* * * * *"]))
        let a2 = try await h.registry.get(v2, namespace: "default", name: "a")
        #expect(a2.apiVersion == "stable.example.com/v2")
        #expect(a2[path: ["spec", "suspend"]] == false)
        #expect(a2[path: ["spec", "replicas"]] == nil, "v2's schema has no replicas: pruned")
        let a1 = try await h.registry.get(v1, namespace: "default", name: "a")
        #expect(a1.apiVersion == "stable.example.com/v1" && a1[path: ["spec", "replicas"]] == 1)
        // Lists carry every item in the version listed.
        let list = try await h.registry.list(v2, namespace: "default", options: ListOptions())
        #expect(list.apiVersion == "stable.example.com/v2")
        #expect((list["items"]?.arrayValue ?? []).map(\.apiVersion) == ["stable.example.com/v2", "stable.example.com/v2"])
        // An update through v2 keeps the object in v1 and bumps its generation.
        let updated = try await h.registry.guaranteedUpdate(v2, namespace: "default", name: "a") { cur in
            var next = cur
            next[path: ["spec", "image"]] = "new"
            return next
        }
        #expect(updated.apiVersion == "stable.example.com/v2" && updated[path: ["metadata", "generation"]] == 2)
        let restored = try #require(try await h.registry.store.get(v1.storeKey(namespace: "default", name: "a"), revision: nil))
        let raw = try JSONValue.parse(restored.value)
        #expect(raw.apiVersion == "stable.example.com/v1" && raw[path: ["spec", "image"]] == "new")
        // Deleting through either version works.
        _ = try await h.registry.delete(v2, namespace: "default", name: "b")
        await #expect(throws: APIError.self) { _ = try await h.registry.get(v1, namespace: "default", name: "b") }
    }

    @Test func aWatchServesEventsInTheVersionWatched() async throws {
        let h = try await Harness()
        try await h.establish(Self.twoVersions())
        let v1 = try h.crontabs("v1"), v2 = try h.crontabs("v2")
        _ = try await h.registry.create(v1, namespace: "default", object: h.crontab("before", ["cronSpec": "1 * * * *"]))
        let stream = try await h.registry.watch(v2, namespace: "default", options: ListOptions())
        var events = stream.makeAsyncIterator()
        _ = try await h.registry.create(v1, namespace: "default", object: h.crontab("after", ["cronSpec": "2 * * * *"]))
        _ = try await h.registry.delete(v1, namespace: "default", name: "before")
        var seen: [String] = []
        for _ in 0..<3 {
            let e = try #require(try await events.next())
            #expect(e.object.apiVersion == "stable.example.com/v2")
            seen.append("\(e.type) \(e.object.metadataName ?? "")")
        }
        #expect(seen == ["ADDED before", "ADDED after", "DELETED before"])
    }

    @Test func aNewStorageVersionIsRecordedAndOldObjectsStillRead() async throws {
        let h = try await Harness()
        try await h.establish(Self.twoVersions())
        let v1 = try h.crontabs("v1")
        _ = try await h.registry.create(v1, namespace: "default", object: h.crontab("old", ["cronSpec": "* * * * *"]))
        _ = try await h.registry.guaranteedUpdate(h.definitions, namespace: nil, name: "crontabs.stable.example.com") { cur in
            var next = Self.twoVersions(storage: "v2")
            next["metadata"] = cur["metadata"]
            next["status"] = cur["status"]
            return next
        }
        try await h.controller.sync()
        let crd = try await h.registry.get(h.definitions, namespace: nil, name: "crontabs.stable.example.com")
            .decode(CustomResourceDefinition.self)
        #expect(crd.status?.storedVersions == ["v1", "v2"])
        let v2 = try h.crontabs("v2")
        #expect(try await h.registry.get(v2, namespace: "default", name: "old").apiVersion == "stable.example.com/v2")
        // Written again, it is stored in v2.
        _ = try await h.registry.guaranteedUpdate(v1, namespace: "default", name: "old") { cur in
            var next = cur
            next[path: ["metadata", "labels"]] = ["moved": "yes"]
            return next
        }
        let stored = try #require(try await h.registry.store.get(v1.storeKey(namespace: "default", name: "old"), revision: nil))
        #expect(try JSONValue.parse(stored.value).apiVersion == "stable.example.com/v2")
    }

    // MARK: Conversion webhook answers

    static let sent: [JSONValue] = [[
        "apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "metadata": ["name": "a", "namespace": "default", "uid": "u1", "labels": ["x": "1"]],
        "spec": ["cronSpec": "* * * * *"],
    ]]

    static func answer(uid: String = "r1", status: String = "Success", objects: [JSONValue]) -> JSONValue {
        ["apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
         "response": ["uid": .string(uid), "result": ["status": .string(status), "message": "no way"], "convertedObjects": .array(objects)]]
    }

    static func converted(_ change: (inout JSONValue) -> Void = { _ in }) -> JSONValue {
        var o: JSONValue = ["apiVersion": "stable.example.com/v2", "kind": "CronTab",
                            "metadata": ["name": "a", "namespace": "default", "uid": "u1", "labels": ["x": "2"]],
                            "spec": ["schedule": "* * * * *"]]
        change(&o)
        return o
    }

    @Test func aGoodAnswerKeepsTheMetadataButLabelsAndAnnotations() throws {
        let out = try CustomResourceConverter.converted(
            Self.answer(objects: [Self.converted { $0[path: ["metadata", "name"]] = "renamed"; $0[path: ["metadata", "uid"]] = nil }]),
            uid: "r1", desired: "stable.example.com/v2", originals: Self.sent, failed: "failed")
        #expect(out[0][path: ["spec", "schedule"]] == "* * * * *")
        #expect(out[0].metadataName == "a" && out[0].metadataUID == "u1")
        #expect(out[0].labels == ["x": "2"])
    }

    @Test(arguments: [
        ("uid", "expected response uid \"r1\", got \"other\""),
        ("failure", "no way"),
        ("count", "expected 1 converted objects, got 0"),
        ("apiVersion", "invalid converted object at index 0: invalid apiVersion \"stable.example.com/v1\", expected \"stable.example.com/v2\""),
        ("kind", "invalid converted object at index 0: invalid kind \"Other\", expected \"CronTab\""),
        ("labels", "invalid converted object at index 0: invalid metadata.labels: must be a map of strings"),
        ("garbage", "the answer is not a ConversionReview with a response"),
    ])
    func aBadAnswerIsA500NamingTheFault(fault: String, message: String) {
        var answer: JSONValue
        switch fault {
        case "uid": answer = Self.answer(uid: "other", objects: [Self.converted()])
        case "failure": answer = Self.answer(status: "Failure", objects: [])
        case "count": answer = Self.answer(objects: [])
        case "apiVersion": answer = Self.answer(objects: [Self.converted { $0["apiVersion"] = "stable.example.com/v1" }])
        case "kind": answer = Self.answer(objects: [Self.converted { $0["kind"] = "Other" }])
        case "labels": answer = Self.answer(objects: [Self.converted { $0[path: ["metadata", "labels"]] = ["x": 1] }])
        default: answer = ["hello": "world"]
        }
        do {
            _ = try CustomResourceConverter.converted(answer, uid: "r1", desired: "stable.example.com/v2",
                                                      originals: Self.sent, failed: "conversion webhook failed")
            Issue.record("accepted a bad answer (\(fault))")
        } catch let e as APIError {
            #expect(e.code == 500)
            #expect(e.message.contains("conversion webhook failed: \(message)"), "\(e.message)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
