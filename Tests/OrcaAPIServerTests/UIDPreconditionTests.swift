import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// A `metadata.uid` in an update or patch names the object it is for: another object of the
/// same name (deleted and created again) gets 409, not the write.
@Suite struct UIDPreconditionTests {
    @Test func aWriteForAnotherUIDConflicts() async throws {
        let c = try await TestCluster()
        let cms = c.r("configmaps")
        let created = try await c.registry.create(cms, namespace: "default", object: ["metadata": ["name": "a"], "data": ["k": "v"]])
        let uid = try #require(created.metadataUID)
        let ok = try await c.registry.mergePatchRequest(cms, namespace: "default", name: "a",
                                                        patch: ["metadata": ["uid": .string(uid)], "data": ["k": "w"]], subresource: nil)
        #expect(ok[path: ["data", "k"]]?.stringValue == "w")
        await #expect { _ = try await c.registry.mergePatchRequest(cms, namespace: "default", name: "a",
                                                                   patch: ["metadata": ["uid": "someone-else"], "data": ["k": "x"]],
                                                                   subresource: nil) }
            throws: { e in
                guard let e = e as? APIError else { return false }
                return e.code == 409 && e.message.contains("Precondition failed: UID in precondition: someone-else, UID in object meta: \(uid)")
            }
        #expect(try await c.registry.get(cms, namespace: "default", name: "a")[path: ["data", "k"]]?.stringValue == "w")
        // A status write for another pod of the same name is refused too.
        let pods = c.r("pods")
        _ = try await c.registry.create(pods, namespace: "default", object: [
            "metadata": ["name": "p"], "spec": ["containers": [["name": "c", "image": "busybox"]]]])
        await #expect { _ = try await c.registry.mergePatchRequest(pods, namespace: "default", name: "p",
                                                                   patch: ["metadata": ["uid": "old-pod"], "status": ["phase": "Running"]],
                                                                   subresource: "status") }
            throws: { ($0 as? APIError)?.code == 409 }
    }
}
