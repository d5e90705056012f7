import Foundation
import OrcaAPI
import OrcaPKI
import Testing
@testable import OrcaAPIServer

/// CertificateSigningRequests record their requester, keep their spec, and must carry a real
/// PKCS#10 request; bootstrap tokens may only create and read them.
@Suite struct CertificateSigningRequestTests {
    let csrs = ResourceCatalog.standard.resource(group: "certificates.k8s.io", version: "v1", resource: "certificatesigningrequests")!

    func body(_ request: String, signer: String = "kubernetes.io/kube-apiserver-client-kubelet",
              usages: [String] = ["digital signature", "client auth"]) -> JSONValue {
        ["metadata": ["name": "n1"],
         "spec": ["request": .string(Data(request.utf8).base64EncodedString()), "signerName": .string(signer),
                  "usages": .array(usages.map(JSONValue.string)), "username": "forged"]]
    }

    @Test func theRequesterIsTheAuthenticatedUser() async throws {
        let registry = try await TestCluster().registry
        let (request, _) = try CertificateRequest.make(.init(commonName: "system:node:n1", organizations: ["system:nodes"]))
        let user = NodeJoinToken.bootstrapUser(id: "abcdef")
        let created = try await registry.create(csrs, namespace: nil, object: body(request), user: user)
        #expect(created[path: ["spec", "username"]]?.stringValue == "system:bootstrap:abcdef")
        #expect(created[path: ["spec", "groups"]]?.arrayValue?.compactMap(\.stringValue).contains("system:bootstrappers") == true)
        // The spec never changes afterwards.
        var changed = created
        changed[path: ["spec", "signerName"]] = "example.com/other"
        let updated = try await registry.update(csrs, namespace: nil, name: "n1", object: changed)
        #expect(updated[path: ["spec", "signerName"]]?.stringValue == "kubernetes.io/kube-apiserver-client-kubelet")
    }

    @Test func aRequestThatIsNotPKCS10IsInvalid() async throws {
        let registry = try await TestCluster().registry
        await #expect { _ = try await registry.create(csrs, namespace: nil, object: body("not a request", usages: ["client auth", "bogus"])) }
            throws: { error in
                guard let e = error as? APIError, e.code == 422 else { return false }
                let fields = Set(e.status[path: ["details", "causes"]]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? [])
                return fields == ["spec.request", "spec.usages[1]"]
            }
    }

    @Test(arguments: [
        ("GET", "/api/v1/nodes/n1/proxy/containerLogs/default/p/c", "nodes \"n1\" is forbidden: User \"system:bootstrap:abcdef\" cannot get resource \"nodes/proxy\" in API group \"\" at the cluster scope"),
        ("GET", "/api/v1/nodes", "nodes is forbidden: User \"system:bootstrap:abcdef\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"),
        ("GET", "/api/v1/namespaces/default/pods/p", "pods \"p\" is forbidden: User \"system:bootstrap:abcdef\" cannot get resource \"pods\" in API group \"\" in the namespace \"default\""),
        ("DELETE", "/apis/certificates.k8s.io/v1/certificatesigningrequests/x", "certificatesigningrequests.certificates.k8s.io \"x\" is forbidden: User \"system:bootstrap:abcdef\" cannot delete resource \"certificatesigningrequests\" in API group \"certificates.k8s.io\" at the cluster scope"),
    ])
    func bootstrapTokensAreForbiddenEverythingButTheirRequests(method: String, path: String, message: String) async throws {
        // The default policy, as `orca server` makes it.
        let cluster = try await TestCluster(namespaces: ["default", "kube-system", "kube-public"])
        try await RBACBootstrap.ensure(registry: cluster.registry)
        let rbac = RBACPolicyStore()
        try await RBACPolicyController(registry: cluster.registry, store: rbac).sync()
        let authorizer = RequestAuthorizer(rbac: rbac)
        let user = NodeJoinToken.bootstrapUser(id: "abcdef")
        func check(_ m: String, _ p: String) async throws {
            try await authorizer.check(RequestAuthorizer.attributes(user: user, method: .init(m)!, path: p, query: nil), registry: cluster.registry)
        }
        await #expect { try await check(method, path) }
            throws: { ($0 as? APIError)?.code == 403 && ($0 as? APIError)?.message == message }
        for (m, p) in [("POST", "/apis/certificates.k8s.io/v1/certificatesigningrequests"),
                       ("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests/x"), ("GET", "/apis"), ("GET", "/api/v1")] {
            await #expect(throws: Never.self) { try await check(m, p) }
        }
    }
}
