import Foundation
import OrcaAPI
import OrcaCore
import OrcaPKI
import Testing
@testable import OrcaAPIServer

/// The API server's requests to kubelets when the kubelet cannot serve them: a `pods/log` fails
/// at once with 502, as kube-apiserver's "error dialing backend" (`nodes/proxy` goes through the
/// same client, with 503), instead of the connection being tried again until the caller gives up.
struct KubeletClientTests {
    static let pki = temporaryPKI("kubelet-client")

    static func node(port: Int) -> JSONValue {
        ["metadata": ["name": "n1"],
         "status": ["addresses": [["type": "InternalIP", "address": "127.0.0.1"]],
                    "daemonEndpoints": ["kubeletEndpoint": ["Port": .int(Int64(port))]]]]
    }

    /// The error of a GET of `/logs/` on a kubelet at `port`; a request still waiting after 30 s
    /// counts as hanging (a connect takes at most 10 s).
    static func failure(port: Int) async -> APIError? {
        let client = try! KubeletClient(pki: pki)
        return await apiError {
            _ = try await withDeadline(.seconds(30)) { try await client.get(node: node(port: port), path: "/logs/") }
        }
    }

    @Test func aKubeletNobodyListensForFailsAtOnce() async {
        let error = await Self.failure(port: 1)
        #expect(error?.code == 502, "\(String(describing: error))")
        #expect(error?.message.contains("error trying to reach the kubelet of node n1") == true)
    }

    /// A kubelet of another cluster (a serving certificate of another CA) is refused, not retried.
    @Test func aKubeletOfAnotherClusterFailsAtOnce() async throws {
        let other = AdmissionWebhookTests.serving
        try await TestWebhookServer.run(certificatePEM: other.certificatePEM, keyPEM: other.keyPEM) { server in
            let error = await Self.failure(port: server.port)
            #expect(error?.code == 502, "\(String(describing: error))")
        }
    }
}
