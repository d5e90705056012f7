import Foundation
import OrcaCLI
import OrcaClient
import Testing

/// The in-process transport has the HTTPS API's semantics: unknown fields are pruned, the
/// strategy validates, and a resourceVersion in a merge patch is a precondition.
@Suite struct LocalAPIClientTests {
    @Test func unknownFieldsArePrunedAndInvalidObjectsRefused() async throws {
        let c = try await ControllerTestCluster()
        let cms = c.client.resource("configmaps")
        let created = try await c.client.create(cms, namespace: "default", object: [
            "metadata": ["name": "a"], "data": ["k": "v"], "bogus": ["x": 1],
        ])
        #expect(created["bogus"] == nil)
        #expect(try await c.client.get(cms, namespace: "default", name: "a")["bogus"] == nil)
        await #expect { _ = try await c.client.create(cms, namespace: "default", object: ["metadata": ["name": "B_bad"]]) }
            throws: { ($0 as? APIError)?.code == 422 }
    }

    @Test func aStaleResourceVersionInAMergePatchConflicts() async throws {
        let c = try await ControllerTestCluster()
        let cms = c.client.resource("configmaps")
        let created = try await c.client.create(cms, namespace: "default", object: ["metadata": ["name": "a"], "data": ["k": "v"]])
        let rv = try #require(created.resourceVersion)
        _ = try await c.client.mergePatch(cms, namespace: "default", name: "a", patch: ["data": ["k": "w"]], subresource: nil)
        await #expect { _ = try await c.client.mergePatch(cms, namespace: "default", name: "a",
                                                          patch: ["metadata": ["resourceVersion": .string(rv)], "data": ["k": "x"]],
                                                          subresource: nil) }
            throws: { ($0 as? APIError)?.code == 409 }
        let patched = try await c.client.mergePatch(cms, namespace: "default", name: "a", patch: ["data": ["k": "y"], "extra": 1], subresource: nil)
        #expect(patched[path: ["data", "k"]]?.stringValue == "y")
        #expect(patched["extra"] == nil)
    }
}
