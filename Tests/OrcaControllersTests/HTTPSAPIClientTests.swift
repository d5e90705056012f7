import Foundation
import OrcaPKI
import OrcaAPIServer
import OrcaClient
import Testing

/// The sans-IO parts of the HTTPS transport: kubeconfig parsing, request encoding (paths,
/// query, DeleteOptions) read back by the server's own parsers, error decoding and the
/// watch line splitter. The transport itself is tested against a real server in
/// OrcaE2ETests' `HTTPSClientTests`.
@Suite struct HTTPSAPIClientTests {
    // MARK: kubeconfig

    @Test func parsesTheKubeconfigOrcaWrites() throws {
        let dir = NSTemporaryDirectory() + "orca-kubeconfig-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pki = try ClusterPKI.loadOrCreate(dir: dir, hosts: ["127.0.0.1"])
        let config = try Kubeconfig(yaml: pki.adminKubeconfig(server: "https://127.0.0.1:6443"))
        #expect(config.server == "https://127.0.0.1:6443")
        #expect(config.certificateAuthorityPEM == Array(pki.caCertPEM.utf8))
        #expect(config.clientCertificatePEM == Array(pki.adminCertPEM.utf8))
        #expect(config.clientKeyPEM == Array(pki.adminKeyPEM.utf8))
        #expect(config.token == nil && config.authorization == nil)
        #expect(config.namespace == "default")
        #expect(config.hasClientCertificate)
        let tls = try config.tlsConfiguration()
        #expect(tls.certificateChain.count == 1)
        #expect(tls.privateKey != nil)
    }

    @Test func parsesTokensFilesAndTheCurrentContext() throws {
        let dir = NSTemporaryDirectory() + "orca-kubeconfig-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "s3cret\n".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        let yaml = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: a
          cluster:
            server: https://a.example:6443/
        - name: b
          cluster:
            server: https://b.example:6443
            insecure-skip-tls-verify: true
        users:
        - name: alice
          user:
            token: abc
        - name: bob
          user:
            tokenFile: token
        contexts:
        - name: first
          context: {cluster: a, user: alice}
        - name: second
          context: {cluster: b, user: bob, namespace: team}
        current-context: second
        """
        try yaml.write(toFile: dir + "/config", atomically: true, encoding: .utf8)
        let second = try Kubeconfig(path: dir + "/config")
        #expect(second.server == "https://b.example:6443")
        #expect(second.token == "s3cret")
        #expect(second.authorization == "Bearer s3cret")
        #expect(second.insecureSkipTLSVerify)
        #expect(second.namespace == "team")
        #expect(!second.hasClientCertificate)
        #expect(try second.tlsConfiguration().certificateVerification == .none)

        let first = try Kubeconfig(yaml: yaml.replacingOccurrences(of: "current-context: second", with: "current-context: first"))
        #expect(first.server == "https://a.example:6443")
        #expect(first.token == "abc")
        #expect(!first.insecureSkipTLSVerify)
        #expect(first.namespace == "default")
    }

    @Test(arguments: [
        "apiVersion: v1\nkind: Config\nclusters: []\n",
        "- not\n- a mapping\n",
        "clusters:\n- name: c\n  cluster:\n    server: https://x\nusers:\n- name: u\n  user:\n    client-certificate-data: AAAA\n",
    ])
    func refusesBrokenKubeconfigs(_ yaml: String) {
        #expect(throws: (any Error).self) { try Kubeconfig(yaml: yaml) }
    }

    // MARK: request encoding

    @Test(arguments: [
        "app=web", "app!=web", "env in (a,b)", "env notin (c)", "legacy", "!beta",
        "app=web,tier!=db,env in (prod,staging),!legacy", "example.com/role=x", "empty=",
    ])
    func labelSelectorsRenderAsTheyParse(_ text: String) throws {
        let parsed = try LabelMatcher(parsing: text)
        #expect(parsed.description == text)
        #expect(try LabelMatcher(parsing: parsed.description) == parsed)
    }

    @Test func listOptionsGoAsTheQueryTheServerParses() throws {
        var options = ListOptions()
        options.labelSelector = try LabelMatcher(parsing: "app=web,env in (a,b),!old")
        options.fieldSelector = try FieldMatcher(parsing: "spec.nodeName=node-1,status.phase!=Running")
        options.limit = 50
        options.continueToken = "tok=en/+"
        options.resourceVersion = "42"
        options.watch = true
        options.allowWatchBookmarks = true
        options.timeoutSeconds = 30
        let query = RESTClient.query(options.queryItems)
        #expect(query.hasPrefix("?labelSelector=app%3Dweb%2Cenv%20in%20%28a%2Cb%29%2C%21old&"))
        let parsed = try ListOptions(query: Self.decode(query))
        #expect(parsed.labelSelector == options.labelSelector)
        #expect(parsed.fieldSelector == options.fieldSelector)
        #expect(parsed.limit == 50)
        #expect(parsed.continueToken == "tok=en/+")
        #expect(parsed.resourceVersion == "42")
        #expect(parsed.watch && parsed.allowWatchBookmarks)
        #expect(parsed.timeoutSeconds == 30)
        #expect(RESTClient.query(ListOptions().queryItems) == "")
    }

    @Test func deletionOptionsGoAsADeleteOptionsBody() {
        var options = DeletionOptions()
        options.gracePeriodSeconds = 0
        options.propagationPolicy = "Foreground"
        options.preconditionUID = "uid-1"
        options.preconditionResourceVersion = "7"
        options.dryRun = true
        let body = options.deleteOptionsBody
        #expect(body["kind"]?.stringValue == "DeleteOptions")
        let parsed = DeletionOptions(body: body, query: [:])
        #expect(parsed.gracePeriodSeconds == 0)
        #expect(parsed.propagationPolicy == "Foreground")
        #expect(parsed.preconditionUID == "uid-1")
        #expect(parsed.preconditionResourceVersion == "7")
        #expect(parsed.dryRun)
        let plain = DeletionOptions(body: DeletionOptions().deleteOptionsBody, query: [:])
        #expect(plain.gracePeriodSeconds == nil && plain.propagationPolicy == nil && !plain.dryRun)
    }

    @Test func paths() throws {
        let catalog = ResourceCatalog.standard
        let pods = try #require(catalog.resource(group: "", version: "v1", resource: "pods"))
        let deployments = try #require(catalog.resource(group: "apps", version: "v1", resource: "deployments"))
        let nodes = try #require(catalog.resource(group: "", version: "v1", resource: "nodes"))
        let roles = try #require(catalog.resource(group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles"))
        #expect(HTTPSAPIClient.path(pods, namespace: "ns") == "/api/v1/namespaces/ns/pods")
        #expect(HTTPSAPIClient.path(pods, namespace: nil) == "/api/v1/pods")
        #expect(HTTPSAPIClient.path(pods, namespace: "ns", name: "p", subresource: "binding") == "/api/v1/namespaces/ns/pods/p/binding")
        #expect(HTTPSAPIClient.path(deployments, namespace: "ns", name: "d", subresource: "status")
            == "/apis/apps/v1/namespaces/ns/deployments/d/status")
        #expect(HTTPSAPIClient.path(nodes, namespace: "ignored", name: "n1") == "/api/v1/nodes/n1")
        #expect(HTTPSAPIClient.path(roles, namespace: nil, name: "system:controller:x")
            == "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Acontroller%3Ax")
    }

    // MARK: responses

    @Test func statusBodiesBecomeTheirAPIError() {
        let conflict = APIError.conflict(ResourceType("", "v1", "ConfigMap", "configmaps"), "web", "the object has been modified")
        let decoded = APIError(httpStatus: 409, retryAfter: nil, body: conflict.status.encoded())
        #expect(decoded.code == 409 && decoded.reason == "Conflict" && decoded.isConflict)
        #expect(decoded.message == conflict.message)
        #expect(decoded.details == conflict.details)
        #expect(decoded.retryAfterSeconds == nil)

        let busy = APIError.tooManyRequests()
        let throttled = APIError(httpStatus: 429, retryAfter: "3", body: busy.status.encoded())
        #expect(throttled.code == 429 && throttled.reason == "TooManyRequests" && throttled.retryAfterSeconds == 3)
        #expect(APIError(httpStatus: 429, retryAfter: nil, body: busy.status.encoded()).retryAfterSeconds == 1)

        let proxy = APIError(httpStatus: 503, retryAfter: nil, body: Array("upstream unavailable".utf8))
        #expect(proxy.code == 503 && proxy.reason == "ServiceUnavailable")
        #expect(proxy.message.contains("upstream unavailable"))
        let empty = APIError(httpStatus: 404, retryAfter: nil, body: [UInt8]())
        #expect(empty.isNotFound && empty.reason == "NotFound")
    }

    @Test func watchLinesSplitHoweverTheyAreChunked() throws {
        let events: [JSONValue] = [
            ["type": "ADDED", "object": ["metadata": ["name": "a", "resourceVersion": "1"]]],
            ["type": "BOOKMARK", "object": ["metadata": ["resourceVersion": "2"]]],
            ["type": "ERROR", "object": APIError.gone("too old resource version: 1 (5)").status],
        ]
        var bytes: [UInt8] = []
        for e in events { bytes += e.encoded() + [10] }
        bytes += [10]  // a blank line is skipped
        for chunkSize in [1, 3, 7, 64, bytes.count] {
            var decoder = JSONLineDecoder()
            var out: [JSONValue] = []
            var i = 0
            while i < bytes.count {
                decoder.append(bytes[i..<min(i + chunkSize, bytes.count)])
                while let v = try decoder.next() { out.append(v) }
                i += chunkSize
            }
            if let last = try decoder.finish() { out.append(last) }
            #expect(out == events, "chunks of \(chunkSize)")
        }
        var unterminated = JSONLineDecoder()
        unterminated.append(Array(#"{"type":"DELETED","object":{}}"#.utf8))
        #expect(try unterminated.next() == nil)
        #expect(try unterminated.finish()?["type"]?.stringValue == "DELETED")
        var broken = JSONLineDecoder()
        broken.append(Array("{not json\n".utf8))
        #expect(throws: (any Error).self) { try broken.next() }
    }

    /// `?a=b&c=d` percent-decoded into a dictionary, as the server reads its query.
    static func decode(_ query: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in query.dropFirst().split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            out[parts[0].removingPercentEncoding ?? parts[0]] = (parts.count > 1 ? parts[1] : "").removingPercentEncoding
        }
        return out
    }
}
