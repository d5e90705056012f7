import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// `pods/ephemeralcontainers`: the only way to add ephemeral containers, which are never
/// changed or removed, and which the main resource and `pods/status` leave alone.
@Suite struct EphemeralContainersTests {
    static let pod: JSONValue = [
        "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "web"],
        "spec": ["containers": [["name": "app", "image": "docker.io/library/busybox:1.35"]]],
    ]

    static func debugger(_ name: String = "debugger", target: String? = "app") -> JSONValue {
        var c: JSONValue = ["name": .string(name), "image": "docker.io/library/busybox:1.35", "stdin": true, "tty": true]
        if let target { c["targetContainerName"] = .string(target) }
        return c
    }

    /// The field paths of the causes of an Invalid (422) error.
    static func invalidFields(_ body: () async throws -> Void) async -> [String] {
        do {
            try await body()
            return []
        } catch let e as APIError {
            #expect(e.code == 422, "\(e)")
            return e.details?["causes"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? ["<no causes: \(e)>"]
        } catch {
            return ["<\(error)>"]
        }
    }

    @Test func addedThroughTheSubresourceOnly() async throws {
        let c = try await TestCluster()
        let pods = c.r("pods")
        let created = try await c.registry.create(pods, namespace: "default", object: Self.pod)

        // The main resource ignores them (as it ignores status).
        var main = created
        main[path: ["spec", "ephemeralContainers"]] = [Self.debugger()]
        let afterMain = try await c.registry.update(pods, namespace: "default", name: "web", object: main)
        #expect(afterMain[path: ["spec", "ephemeralContainers"]] == nil)

        // The subresource adds one, defaulted, and changes nothing else.
        var sub = afterMain
        sub[path: ["spec", "ephemeralContainers"]] = [Self.debugger()]
        sub[path: ["spec", "containers"]] = [["name": "app", "image": "other"]]
        let added = try await c.registry.update(pods, namespace: "default", name: "web", object: sub, subresource: "ephemeralcontainers")
        let ephemeral = try #require(added[path: ["spec", "ephemeralContainers"]]?.arrayValue)
        #expect(ephemeral.count == 1)
        #expect(ephemeral[0]["terminationMessagePolicy"] == "File")
        #expect(ephemeral[0]["imagePullPolicy"] == "IfNotPresent")
        #expect(added[path: ["spec", "containers"]]?.arrayValue?.first?["image"] == "docker.io/library/busybox:1.35")

        // A status write keeps them.
        var status = added
        status["status"] = ["phase": "Running"]
        status[path: ["spec", "ephemeralContainers"]] = nil
        let afterStatus = try await c.registry.update(pods, namespace: "default", name: "web", object: status, subresource: "status")
        #expect(afterStatus[path: ["spec", "ephemeralContainers"]]?.arrayValue?.count == 1)
    }

    @Test func forbiddenOnCreate() async throws {
        let c = try await TestCluster()
        var pod = Self.pod
        pod[path: ["spec", "ephemeralContainers"]] = [Self.debugger()]
        let fields = await Self.invalidFields { _ = try await c.registry.create(c.r("pods"), namespace: "default", object: pod) }
        #expect(fields == ["spec.ephemeralContainers"])
    }

    @Test func existingOnesAreNeitherChangedNorRemoved() async throws {
        let c = try await TestCluster()
        let pods = c.r("pods")
        var pod = try await c.registry.create(pods, namespace: "default", object: Self.pod)
        pod[path: ["spec", "ephemeralContainers"]] = [Self.debugger()]
        pod = try await c.registry.update(pods, namespace: "default", name: "web", object: pod, subresource: "ephemeralcontainers")

        var removed = pod
        removed[path: ["spec", "ephemeralContainers"]] = []
        #expect(await Self.invalidFields {
            _ = try await c.registry.update(pods, namespace: "default", name: "web", object: removed, subresource: "ephemeralcontainers")
        } == ["spec.ephemeralContainers"])

        var changed = pod
        changed[path: ["spec", "ephemeralContainers"]] = [Self.debugger(target: nil)]
        #expect(await Self.invalidFields {
            _ = try await c.registry.update(pods, namespace: "default", name: "web", object: changed, subresource: "ephemeralcontainers")
        } == ["spec.ephemeralContainers"])
    }

    static let badContainers: [(JSONValue, String)] = [
        (["name": "app", "image": "busybox"], "spec.ephemeralContainers[0].name"),
        (["name": "dbg", "image": ""], "spec.ephemeralContainers[0].image"),
        (["name": "dbg", "image": "busybox", "ports": [["containerPort": 80]]], "spec.ephemeralContainers[0].ports"),
        (["name": "dbg", "image": "busybox", "readinessProbe": ["exec": ["command": ["true"]]]], "spec.ephemeralContainers[0].readinessProbe"),
        (["name": "dbg", "image": "busybox", "resources": ["limits": ["memory": "1Mi"]]], "spec.ephemeralContainers[0].resources"),
        (["name": "dbg", "image": "busybox", "targetContainerName": "nope"], "spec.ephemeralContainers[0].targetContainerName"),
    ]

    @Test(arguments: badContainers)
    func newOnesAreValidated(container: JSONValue, field: String) async throws {
        let c = try await TestCluster()
        let pods = c.r("pods")
        var pod = try await c.registry.create(pods, namespace: "default", object: Self.pod)
        pod[path: ["spec", "ephemeralContainers"]] = [container]
        let fields = await Self.invalidFields {
            _ = try await c.registry.update(pods, namespace: "default", name: "web", object: pod, subresource: "ephemeralcontainers")
        }
        #expect(fields == [field])
    }
}
