import Foundation
import HTTPTypes
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// API details the Kubernetes conformance tests check (issue 15): immutable ConfigMaps and
/// Secrets, `remainingItemCount` on paged lists, and 406 for a Table of a review.
struct APIConformanceTests {
    @Test(arguments: ["configmaps", "secrets"])
    func anImmutableObjectRefusesChangesToItsData(resource: String) async throws {
        let c = try await TestCluster()
        let r = c.r(resource)
        _ = try await c.registry.create(r, namespace: "default", object: [
            "metadata": ["name": "frozen"], "data": ["a": "YQ=="], "immutable": true,
        ])
        func change(_ edit: @escaping @Sendable (inout JSONValue) -> Void) async -> APIError? {
            await apiError {
                _ = try await c.registry.guaranteedUpdate(r, namespace: "default", name: "frozen") { cur in
                    var next = cur
                    edit(&next)
                    return next
                }
            }
        }
        let data = await change { $0[path: ["data", "a"]] = "Yg==" }
        #expect(data?.code == 422)
        #expect(data?.message.contains("data: Forbidden: field is immutable when `immutable` is set") == true, "\(data?.message ?? "")")
        let unfrozen = await change { $0["immutable"] = false }
        #expect(unfrozen?.message.contains("immutable: Forbidden: field is immutable when `immutable` is set") == true)
        // Metadata may still change, and the object can be deleted.
        #expect(await change { $0[path: ["metadata", "labels"]] = ["x": "y"] } == nil)
        _ = try await c.registry.delete(r, namespace: "default", name: "frozen")
    }

    @Test func aPagedListTellsHowManyItemsRemain() async throws {
        let c = try await TestCluster()
        let r = c.r("configmaps")
        for i in 0..<7 { _ = try await c.registry.create(r, namespace: "default", object: ["metadata": ["name": .string("cm\(i)")]]) }
        var options = ListOptions()
        options.limit = 3
        var seen = 0
        var remaining: [Int64?] = []
        while true {
            let page = try await c.registry.list(r, namespace: "default", options: options)
            seen += page["items"]?.arrayValue?.count ?? 0
            remaining.append(page[path: ["metadata", "remainingItemCount"]]?.intValue)
            guard let token = page[path: ["metadata", "continue"]]?.stringValue else { break }
            options.continueToken = token
            // Created meanwhile: not in this list's snapshot, nor in its count.
            _ = try await c.registry.create(r, namespace: "default", object: ["metadata": ["name": .string("late\(seen)")]])
        }
        #expect(seen == 7)
        #expect(remaining == [4, 1, nil])
        // With a selector the count is unknown and left out.
        var selected = ListOptions()
        selected.limit = 1
        selected.labelSelector = try LabelMatcher(parsing: "!missing")
        let page = try await c.registry.list(r, namespace: "default", options: selected)
        #expect(page[path: ["metadata", "continue"]] != nil && page[path: ["metadata", "remainingItemCount"]] == nil)
    }

    @Test func aReviewAskedForAsATableIs406() async throws {
        let s = try await AuthorizationTests.Server()
        let review: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                 "spec": ["resourceAttributes": ["verb": "list", "resource": "pods"]]]
        let reply = try await s.send(.post, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", token: AuthorizationTests.Server.bobToken,
                                     body: review, headers: [.accept: "application/json;as=Table;v=v1;g=meta.k8s.io"])
        #expect(reply.status == 406)
        #expect(reply.body["reason"] == "NotAcceptable")
    }
}
