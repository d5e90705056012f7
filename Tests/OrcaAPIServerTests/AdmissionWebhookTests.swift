import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import OrcaAPI
import OrcaPKI
import OrcaStore
import Synchronization
import Testing
@testable import OrcaAPIServer

/// Admission webhooks against a real HTTPS webhook on 127.0.0.1 (a certificate of a test CA,
/// trusted through `caBundle`): configurations are created through the registry and read by
/// the controller's `sync()`; writes are then refused, patched, warned about, or let through
/// when a webhook is down or slow, as kube-apiserver does.
struct AdmissionWebhookTests {
    static let pki = temporaryPKI("webhook")
    /// The webhook's serving certificate: its IP, and the name of the Service that fronts it.
    static let serving = try! pki.authority.issueWithNewKey(
        subject: .init(commonName: "webhook", dnsNames: ["hook.default.svc"], ipAddresses: ["127.0.0.1"]),
        usages: .init(digitalSignature: true, keyEncipherment: true, serverAuth: true), lifetime: 3600)
    static let caBundle = Data(pki.caCertPEM.utf8).base64EncodedString()
    static let group = "admissionregistration.k8s.io"
    static let configMapRule: JSONValue = [["operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]]]

    /// A cluster whose admission calls webhooks, and the webhook server, for one test.
    struct Harness {
        let cluster: TestCluster
        let store: WebhookConfigurationStore
        let server: TestWebhookServer
        var registry: Registry { cluster.registry }

        func url(_ scenario: String) -> String { "https://127.0.0.1:\(server.port)/\(scenario)" }

        /// A webhook calling `scenario` for ConfigMap creates and updates, with `extra` fields.
        func hook(_ name: String, _ scenario: String, rules: JSONValue = configMapRule, _ extra: [String: JSONValue] = [:]) -> JSONValue {
            var hook: JSONValue = ["name": .string(name), "clientConfig": ["url": .string(url(scenario)), "caBundle": .string(caBundle)],
                                   "rules": rules, "sideEffects": "None", "admissionReviewVersions": ["v1"]]
            for (k, v) in extra { hook[k] = v }
            return hook
        }

        /// Creates a configuration of `kind` through the registry and syncs the store.
        func configure(_ resource: String, _ name: String, _ hooks: [JSONValue]) async throws {
            let object: JSONValue = ["metadata": ["name": .string(name)], "webhooks": .array(hooks)]
            _ = try await registry.create(cluster.r(resource, group), namespace: nil, object: object)
            try await WebhookConfigurationController(registry: registry, store: store).sync()
        }

        func validating(_ name: String, _ hooks: [JSONValue]) async throws { try await configure("validatingwebhookconfigurations", name, hooks) }
        func mutating(_ name: String, _ hooks: [JSONValue]) async throws { try await configure("mutatingwebhookconfigurations", name, hooks) }

        func configMap(_ name: String, namespace: String = "default", labels: [String: String] = [:],
                       dryRun: Bool = false, user: UserInfo? = nil) async throws -> JSONValue {
            let object: JSONValue = ["metadata": ["name": .string(name), "labels": .object(labels.mapValues(JSONValue.string))], "data": ["k": "v"]]
            return try await registry.create(cluster.r("configmaps"), namespace: namespace, object: object, dryRun: dryRun, user: user)
        }
    }

    static func withHarness(namespaces: [String] = ["default"], _ body: (Harness) async throws -> Void) async throws {
        try await TestWebhookServer.run(certificatePEM: serving.certificatePEM, keyPEM: serving.keyPEM) { server in
            let store = WebhookConfigurationStore()
            let cluster = try await TestCluster(namespaces: namespaces, admission: AdmissionChain([AdmissionWebhooks(store: store)]))
            try await body(Harness(cluster: cluster, store: store, server: server))
        }
    }

    @Test func aValidatingWebhookRefusesWhatItsObjectSelectorPicks() async throws {
        try await Self.withHarness { h in
            try await h.validating("policy", [h.hook("deny.orca.test", "deny", ["objectSelector": ["matchLabels": ["guard": "on"]]])])
            let e = await apiError { _ = try await h.configMap("guarded", labels: ["guard": "on"]) }
            #expect(e?.code == 403)
            #expect(e?.reason == "Forbidden")
            #expect(e?.message == "admission webhook \"deny.orca.test\" denied the request: the object is not welcome here")
            #expect(await apiError { _ = try await h.registry.get(h.cluster.r("configmaps"), namespace: "default", name: "guarded") }?.code == 404)
            _ = try await h.configMap("plain")
            #expect(h.server.calls.reviews("deny").count == 1)
        }
    }

    @Test func theNamespaceSelectorReadsTheNamespaceLabels() async throws {
        try await Self.withHarness { h in
            let namespaces = h.cluster.r("namespaces")
            _ = try await h.registry.create(namespaces, namespace: nil, object: ["metadata": ["name": "guarded", "labels": ["webhooks": "on"]]])
            _ = try await h.registry.create(namespaces, namespace: nil, object: ["metadata": ["name": "free"]])
            try await h.validating("policy", [h.hook("deny.orca.test", "deny", ["namespaceSelector": ["matchLabels": ["webhooks": "on"]]])])
            #expect(await apiError { _ = try await h.configMap("c", namespace: "guarded") }?.code == 403)
            _ = try await h.configMap("c", namespace: "free")
        }
    }

    @Test func aMutatingWebhookPatchesTheObject() async throws {
        try await Self.withHarness { h in
            try await h.mutating("labeller", [h.hook("label.orca.test", "label")])
            let created = try await h.configMap("c", labels: ["app": "web"])
            #expect(created.labels == ["app": "web", "mutated": "yes"])
            let stored = try await h.registry.get(h.cluster.r("configmaps"), namespace: "default", name: "c")
            #expect(stored.labels["mutated"] == "yes")
        }
    }

    @Test func ifNeededWebhooksRunAgainAfterALaterChange() async throws {
        try await Self.withHarness { h in
            try await h.mutating("a-first", [h.hook("a.orca.test", "stamp-a", ["reinvocationPolicy": "IfNeeded"])])
            try await h.mutating("b-second", [h.hook("b.orca.test", "stamp-b")])
            let created = try await h.configMap("c")
            #expect(created.labels == ["a": "1", "b": "1"])
            #expect(h.server.calls.reviews("stamp-a").count == 2)
            #expect(h.server.calls.reviews("stamp-b").count == 1)
            // The second call of `a` saw what `b` did.
            #expect(h.server.calls.reviews("stamp-a").last?[path: ["request", "object", "metadata", "labels", "b"]] == "1")
        }
    }

    @Test(arguments: ["Fail", "Ignore"])
    func aWebhookThatIsDownFollowsItsFailurePolicy(policy: String) async throws {
        try await Self.withHarness { h in
            var hook = h.hook("down.orca.test", "x", ["failurePolicy": .string(policy)])
            hook[path: ["clientConfig", "url"]] = "https://127.0.0.1:1/x"
            try await h.validating("down", [hook])
            let e = await apiError { _ = try await h.configMap("c") }
            if policy == "Fail" {
                #expect(e?.code == 500)
                #expect(e?.message.hasPrefix("Internal error occurred: failed calling webhook \"down.orca.test\": failed to call webhook: Post \"https://127.0.0.1:1/x?timeout=10s\": ") == true)
            } else {
                #expect(e == nil)
            }
        }
    }

    @Test(arguments: ["Fail", "Ignore"])
    func aSlowWebhookIsCutOffAtItsTimeout(policy: String) async throws {
        try await Self.withHarness { h in
            try await h.validating("slow", [h.hook("slow.orca.test", "slow", ["failurePolicy": .string(policy), "timeoutSeconds": 1])])
            let e = await apiError { _ = try await h.configMap("c") }
            if policy == "Fail" {
                #expect(e?.code == 500)
                #expect(e?.message.contains("failed calling webhook \"slow.orca.test\": failed to call webhook: Post") == true)
                #expect(e?.message.hasSuffix("context deadline exceeded") == true)
            } else {
                #expect(e == nil)
            }
        }
    }

    @Test func anAnswerThatIsNotJSONIsAFailedCall() async throws {
        try await Self.withHarness { h in
            try await h.validating("garbage", [h.hook("garbage.orca.test", "garbage")])
            let e = await apiError { _ = try await h.configMap("c") }
            #expect(e?.code == 500)
            #expect(e?.message.hasPrefix("Internal error occurred: failed calling webhook \"garbage.orca.test\": failed to call webhook: couldn't get version/kind; json parse error") == true)
        }
    }

    @Test func anAnswerToAnotherRequestIsAFailedCall() async throws {
        try await Self.withHarness { h in
            try await h.validating("uid", [h.hook("uid.orca.test", "wrong-uid")])
            let e = await apiError { _ = try await h.configMap("c") }
            #expect(e?.code == 500)
            #expect(e?.message.contains("failed calling webhook \"uid.orca.test\": received invalid webhook response: expected response.uid=") == true)
            #expect(e?.message.hasSuffix("got \"not-the-uid\"") == true)
        }
    }

    @Test func aCertificateNotSignedByTheCABundleIsAFailedCall() async throws {
        try await Self.withHarness { h in
            var hook = h.hook("tls.orca.test", "allow")
            hook[path: ["clientConfig", "caBundle"]] = nil
            try await h.validating("tls", [hook])
            let e = await apiError { _ = try await h.configMap("c") }
            #expect(e?.code == 500)
            #expect(e?.message.contains("failed calling webhook \"tls.orca.test\": failed to call webhook:") == true)
            #expect(h.server.calls.reviews("allow").isEmpty)
        }
    }

    @Test func dryRunsCallOnlyWebhooksWithoutSideEffects() async throws {
        try await Self.withHarness { h in
            try await h.mutating("labeller", [h.hook("label.orca.test", "label")])
            let dry = try await h.configMap("c", dryRun: true)
            #expect(dry.labels["mutated"] == "yes")
            #expect(h.server.calls.reviews("label").first?[path: ["request", "dryRun"]] == true)
            #expect(await apiError { _ = try await h.registry.get(h.cluster.r("configmaps"), namespace: "default", name: "c") }?.code == 404)
            // v1 no longer accepts `Unknown`; a configuration stored before that still has it.
            var unknown = MutatingWebhook(admissionReviewVersions: ["v1"], clientConfig: .init(caBundle: Self.caBundle, url: h.url("label")),
                                          name: "unknown.orca.test", rules: [RuleWithOperations(apiGroups: [""], apiVersions: ["v1"],
                                                                                                operations: ["CREATE"], resources: ["configmaps"])])
            unknown.sideEffects = "Unknown"
            h.store.replace(mutating: [MutatingWebhookConfiguration(metadata: ObjectMeta(name: "old"), webhooks: [unknown])], validating: [])
            let e = await apiError { _ = try await h.configMap("d", dryRun: true) }
            #expect(e?.code == 400)
            #expect(e?.message == "admission webhook \"unknown.orca.test\" does not support dry run")
        }
    }

    @Test func warningsReachTheRequest() async throws {
        try await Self.withHarness { h in
            try await h.validating("warner", [h.hook("warn.orca.test", "warn")])
            let sink = AdmissionWarnings()
            try await AdmissionWarnings.$current.withValue(sink) { _ = try await h.configMap("c") }
            #expect(sink.warnings == ["careful with that ConfigMap"])
        }
    }

    @Test func theReviewCarriesTheRequest() async throws {
        try await Self.withHarness { h in
            try await h.validating("observer", [h.hook("allow.orca.test", "allow")])
            let alice = UserInfo(name: "alice", groups: ["devs", "system:authenticated"])
            var created = try await h.configMap("c", labels: ["app": "web"], user: alice)
            created["data"] = ["k": "w"]
            _ = try await h.registry.update(h.cluster.r("configmaps"), namespace: "default", name: "c", object: created, user: alice)
            let reviews = h.server.calls.reviews("allow")
            try #require(reviews.count == 2)
            let create = reviews[0], update = reviews[1]
            #expect(create["apiVersion"] == "admission.k8s.io/v1")
            #expect(create["kind"] == "AdmissionReview")
            #expect(create[path: ["request", "kind"]] == ["group": "", "version": "v1", "kind": "ConfigMap"])
            #expect(create[path: ["request", "resource"]] == ["group": "", "version": "v1", "resource": "configmaps"])
            #expect(create[path: ["request", "operation"]] == "CREATE")
            #expect(create[path: ["request", "namespace"]] == "default")
            #expect(create[path: ["request", "name"]] == "c")
            #expect(create[path: ["request", "userInfo", "username"]] == "alice")
            #expect(create[path: ["request", "userInfo", "groups"]] == ["devs", "system:authenticated"])
            #expect(create[path: ["request", "object", "metadata", "labels", "app"]] == "web")
            #expect(create[path: ["request", "oldObject"]] == .null)
            #expect(create[path: ["request", "options", "kind"]] == "CreateOptions")
            #expect(create[path: ["request", "uid"]] != update[path: ["request", "uid"]])
            #expect(update[path: ["request", "operation"]] == "UPDATE")
            #expect(update[path: ["request", "object", "data", "k"]] == "w")
            #expect(update[path: ["request", "oldObject", "data", "k"]] == "v")
        }
    }

    @Test func webhookConfigurationsAreNeverSentToWebhooks() async throws {
        try await Self.withHarness { h in
            let everything: JSONValue = [["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/*"]]]
            try await h.validating("wall", [h.hook("wall.orca.test", "deny", rules: everything)])
            try await h.validating("another", [h.hook("another.orca.test", "allow")])
            _ = try await h.registry.delete(h.cluster.r("validatingwebhookconfigurations", Self.group), namespace: nil, name: "another")
            #expect(await apiError { _ = try await h.configMap("c") }?.code == 403)
            #expect(h.server.calls.reviews("deny").allSatisfy { $0[path: ["request", "resource", "group"]] != .string(Self.group) })
        }
    }

    @Test func deletionsAreSentToWebhooksWithTheOldObject() async throws {
        try await Self.withHarness { h in
            _ = try await h.configMap("keep", labels: ["app": "web"])
            let deletes: JSONValue = [["operations": ["DELETE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]]]
            try await h.validating("keeper", [h.hook("keeper.orca.test", "deny", rules: deletes, ["objectSelector": ["matchLabels": ["app": "web"]]])])
            let e = await apiError { _ = try await h.registry.delete(h.cluster.r("configmaps"), namespace: "default", name: "keep") }
            #expect(e?.code == 403)
            let review = try #require(h.server.calls.reviews("deny").first)
            #expect(review[path: ["request", "operation"]] == "DELETE")
            #expect(review[path: ["request", "oldObject", "metadata", "name"]] == "keep")
            #expect(review[path: ["request", "options", "kind"]] == "DeleteOptions")
            _ = try await h.registry.get(h.cluster.r("configmaps"), namespace: "default", name: "keep")
        }
    }

    @Test func aServiceReferenceIsCalledAtAReadyEndpoint() async throws {
        try await Self.withHarness { h in
            let service: JSONValue = ["metadata": ["name": "hook"], "spec": ["ports": [["port": 443, "targetPort": .int(Int64(h.server.port))]]]]
            _ = try await h.registry.create(h.cluster.r("services"), namespace: "default", object: service)
            // Validation refuses loopback endpoints (as kube's does), and the test webhook listens
            // only on loopback: the slice is written to the store directly.
            let slice: JSONValue = [
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": ["name": "hook-1", "namespace": "default", "labels": ["kubernetes.io/service-name": "hook"]],
                "addressType": "IPv4",
                "endpoints": [["addresses": ["10.42.0.9"], "conditions": ["ready": false]], ["addresses": ["127.0.0.1"], "conditions": ["ready": true]]],
                "ports": [["name": "", "port": .int(Int64(h.server.port)), "protocol": "TCP"]],
            ]
            let slices = h.cluster.r("endpointslices", "discovery.k8s.io")
            _ = try await h.cluster.store.create(slices.storeKey(namespace: "default", name: "hook-1"), value: slice.encoded())
            var hook = h.hook("svc.orca.test", "deny")
            hook["clientConfig"] = ["service": ["namespace": "default", "name": "hook", "path": "/deny"], "caBundle": .string(Self.caBundle)]
            try await h.validating("by-service", [hook])
            let e = await apiError { _ = try await h.configMap("c") }
            #expect(e?.message == "admission webhook \"svc.orca.test\" denied the request: the object is not welcome here")

            var nobody = hook
            nobody["name"] = "nobody.orca.test"
            nobody[path: ["clientConfig", "service", "name"]] = "nobody"
            try await h.validating("nobody", [nobody])
            _ = try await h.registry.delete(h.cluster.r("validatingwebhookconfigurations", Self.group), namespace: nil, name: "by-service")
            try await WebhookConfigurationController(registry: h.registry, store: h.store).sync()
            let down = await apiError { _ = try await h.configMap("d") }
            #expect(down?.code == 500)
            #expect(down?.message.contains("failed calling webhook \"nobody.orca.test\": failed to call webhook: Post \"https://nobody.default.svc:443/deny?timeout=10s\": service \"nobody\" not found") == true)
        }
    }
}

/// The calls a `TestWebhookServer` answered, by scenario (the path it was called at).
final class WebhookCallLog: Sendable {
    private let calls = Mutex<[(scenario: String, review: JSONValue)]>([])

    func record(_ scenario: String, _ review: JSONValue) { calls.withLock { $0.append((scenario, review)) } }

    /// The AdmissionReviews sent to `scenario`, in order.
    func reviews(_ scenario: String) -> [JSONValue] { calls.withLock { $0.filter { $0.scenario == scenario }.map(\.review) } }
}

/// A real HTTPS admission webhook on 127.0.0.1 (Hummingbird with TLS) that answers by the
/// path it is called at: `allow`, `deny`, `label` (patches a label in), `stamp-a`/`stamp-b`
/// (add labels `a`/`b` once), `warn`, `slow` (answers after 4 s), `garbage` (not JSON) and
/// `wrong-uid`.
struct TestWebhookServer: Sendable {
    let port: Int
    let calls: WebhookCallLog

    /// Runs a server for the duration of `body`.
    static func run(certificatePEM: String, keyPEM: String, _ body: (TestWebhookServer) async throws -> Void) async throws {
        let calls = WebhookCallLog()
        let router = Router()
        router.post("{scenario}") { request, context -> Response in
            let scenario = try context.parameters.require("scenario")
            var request = request
            let bytes = try await request.collectBody(upTo: 4 << 20)
            let review = try JSONValue.parse(bytes.readableBytesView)
            calls.record(scenario, review)
            return try await answer(scenario, review)
        }
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, server: try .tls(.http1(), tlsConfiguration: tls),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  portSink.yield(channel.localAddress?.port ?? 0)
                                  portSink.finish()
                              },
                              logger: Logger(label: "test-webhook") { _ in SwiftLogNoOpLogHandler() })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { portSink.finish() }
                try await app.runService(gracefulShutdownSignals: [])
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw APIError.internalError("the test webhook did not start") }
            defer { group.cancelAll() }
            try await body(TestWebhookServer(port: port, calls: calls))
        }
    }

    static func answer(_ scenario: String, _ review: JSONValue) async throws -> Response {
        let uid = review[path: ["request", "uid"]] ?? ""
        let object = review[path: ["request", "object"]] ?? .null
        func reply(_ response: JSONValue, uid: JSONValue = uid) -> Response {
            var response = response
            response["uid"] = uid
            return json(["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response])
        }
        func labelPatch(_ key: String, _ value: String) -> JSONValue {
            let patch: JSONValue = object[path: ["metadata", "labels"]]?.objectValue == nil
                ? [["op": "add", "path": "/metadata/labels", "value": .object([key: .string(value)])]]
                : [["op": "add", "path": .string("/metadata/labels/\(key)"), "value": .string(value)]]
            return ["allowed": true, "patchType": "JSONPatch", "patch": .string(Data(patch.encoded()).base64EncodedString())]
        }
        switch scenario {
        case "allow": return reply(["allowed": true])
        case "deny": return reply(["allowed": false, "status": ["message": "the object is not welcome here"]])
        case "label": return reply(labelPatch("mutated", "yes"))
        case "stamp-a", "stamp-b":
            let key = scenario == "stamp-a" ? "a" : "b"
            return reply(object.labels[key] == nil ? labelPatch(key, "1") : ["allowed": true])
        case "warn": return reply(["allowed": true, "warnings": ["careful with that ConfigMap"]])
        case "slow":
            try? await Task.sleep(for: .seconds(4))
            return reply(["allowed": true])
        case "garbage": return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "this is not an AdmissionReview")))
        case "wrong-uid": return reply(["allowed": true], uid: "not-the-uid")
        default: return Response(status: .notFound)
        }
    }

    static func json(_ value: JSONValue) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: value.encoded())))
    }
}
