import Foundation
import OrcaClient
import OrcaCore

/// The platform figures of `orca bench api`, each against a peer measured in the same run, one
/// request in flight: custom resources with and without a structural schema (vs ConfigMaps),
/// ConfigMap creates through a validating webhook (vs a namespace it does not select), and
/// gets as a ServiceAccount under RBAC with 1 and with 1,000 RoleBindings (vs admin, whom
/// `system:masters` lets past RBAC). Everything stays on loopback.
struct PlatformBenchmark: Sendable {
    let bench: APIBenchmark
    /// The admin kubeconfig: its server URL and CA are those of the ServiceAccount's client.
    let kubeconfig: Kubeconfig
    /// The bench namespace (the peer ConfigMaps go there too).
    let namespace: String
    /// Requests per figure.
    let count: Int
    /// Whether to delete what it made (a server passed with --kubeconfig outlives the run).
    let cleanUp: Bool

    static let group = "bench.orca.dev"
    private var client: BenchAPIClient { bench.client }

    /// Measures all three and adds rows, facts and notes to `report`; returns the summary fragment.
    func measure(into report: inout BenchReport) async throws -> String {
        let crd = try await customResources(into: &report)
        let hook = try await webhook(into: &report)
        let rbac = try await authorization(into: &report)
        return [crd, hook, rbac].joined(separator: "; ")
    }

    /// `a` against `b` as `×p50 (p99 ×p99)`.
    static func ratio(_ a: LatencySamples, _ b: LatencySamples) -> String {
        func r(_ x: Double?, _ y: Double?) -> String {
            guard let x, let y, y > 0 else { return "n/a" }
            return String(format: "×%.2f", x / y)
        }
        return "\(r(a.p50, b.p50)) p50, \(r(a.p99, b.p99)) p99"
    }

    private func row(_ name: String, _ request: @escaping @Sendable (Int) async throws -> Void) async throws -> LatencySamples {
        try await bench.closedLoop(name, count: count, concurrency: 1, request: request)
    }

    /// Polls `check` every 100 ms until it returns true, or throws after `timeout`.
    private func poll(_ what: String, timeout: Duration = .seconds(30), _ check: () async throws -> Bool) async throws {
        let clock = ContinuousClock(), deadline = clock.now + timeout
        while clock.now < deadline {
            if (try? await check()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw OrcaError(.timeout, "\(what): not after \(timeout)")
    }

    /// POSTs `object` to `path`; an object that already exists (a rerun against --kubeconfig) is fine.
    private func ensure(_ path: String, _ object: JSONValue) async throws {
        let r = try await client.send(.POST, path, json: object)
        guard r.isSuccess || r.status == 409 else { throw OrcaError(.internalError, "POST \(path) answered \(r.status): \(r.text.prefix(400))") }
    }

    private func createNamespace(_ name: String, labels: [String: String] = [:]) async throws {
        try await ensure("/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace",
                                                "metadata": ["name": .string(name), "labels": .object(labels.mapValues(JSONValue.string))]])
    }

    // MARK: custom resources

    /// The structural schema of `Schemed`: typed, validated and defaulted fields under `spec`.
    static let structuralSchema: JSONValue = [
        "type": "object",
        "properties": [
            "spec": [
                "type": "object", "required": ["image"],
                "properties": [
                    "image": ["type": "string", "pattern": "^[a-z0-9./:-]+$", "maxLength": 128],
                    "owner": ["type": "string", "maxLength": 63],
                    "replicas": ["type": "integer", "minimum": 0, "maximum": 100, "default": 1],
                    "port": ["type": "integer", "minimum": 1, "maximum": 65535],
                    "tier": ["type": "string", "enum": ["gold", "silver", "bronze"]],
                    "paused": ["type": "boolean"],
                    "note": ["type": "string", "maxLength": 256],
                    "endpoints": [
                        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                        "items": ["type": "object", "required": ["name"], "properties": [
                            "name": ["type": "string", "maxLength": 63],
                            "port": ["type": "integer", "minimum": 1, "maximum": 65535],
                        ]],
                    ],
                ],
            ],
        ],
    ]

    static func definition(kind: String, schema: JSONValue) -> JSONValue {
        let plural = kind.lowercased() + "s"
        return [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": .string("\(plural).\(group)")],
            "spec": [
                "group": .string(group), "scope": "Namespaced",
                "names": ["plural": .string(plural), "singular": .string(kind.lowercased()), "kind": .string(kind), "listKind": .string(kind + "List")],
                "versions": [["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": schema]]],
            ],
        ]
    }

    static func customObject(kind: String, name: String) -> JSONValue {
        [
            "apiVersion": .string("\(group)/v1"), "kind": .string(kind),
            "metadata": ["name": .string(name), "labels": ["app": "orca-bench"]],
            "spec": [
                "image": "docker.io/library/busybox:1.35", "owner": "orca-bench", "port": 8080, "tier": "gold",
                "paused": false, "note": .string(name),
                "endpoints": [["name": "http", "port": 80], ["name": "https", "port": 443]],
            ],
        ]
    }

    private func customResources(into report: inout BenchReport) async throws -> String {
        let kinds = [("Schemed", Self.structuralSchema), ("Free", ["type": "object", "x-kubernetes-preserve-unknown-fields": true] as JSONValue)]
        let crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        let client = self.client, ns = namespace
        for (kind, schema) in kinds {
            let plural = kind.lowercased() + "s"
            BenchLog.info("creating CRD \(plural).\(Self.group)")
            try await ensure(crdPath, Self.definition(kind: kind, schema: schema))
            try await poll("CRD \(plural).\(Self.group) Established") {
                let crd = try await client.expect(.GET, "\(crdPath)/\(plural).\(Self.group)")
                return crd[path: ["status", "conditions"]]?.arrayValue?.contains {
                    $0["type"]?.stringValue == "Established" && $0["status"]?.stringValue == "True"
                } == true
            }
            try await poll("\(plural) in discovery of \(Self.group)/v1") {
                let list = try await client.expect(.GET, "/apis/\(Self.group)/v1")
                return list["resources"]?.arrayValue?.contains { $0["name"]?.stringValue == plural } == true
            }
        }
        let cmPath = APIBenchmark.configMapsPath(ns)
        let name: @Sendable (Int) -> String = { String(format: "cr-%05d", $0) }
        BenchLog.info("\(count) creates and gets each of ConfigMaps, Schemed and Free objects (1 in flight)")
        let cmCreate = try await row("create ConfigMap (CRD peer)") { i in
            try await client.expect(.POST, cmPath, json: APIBenchmark.configMap(name(i)))
        }
        var creates: [LatencySamples] = [], gets: [LatencySamples] = []
        for (kind, _) in kinds {
            let path = "/apis/\(Self.group)/v1/namespaces/\(ns)/\(kind.lowercased())s"
            let label = kind == "Free" ? "no schema" : "schema"
            creates.append(try await row("create \(kind) (\(label))") { i in
                try await client.expect(.POST, path, json: Self.customObject(kind: kind, name: name(i)))
            })
            gets.append(try await row("get \(kind) (\(label))") { i in try await client.expect(.GET, path + "/" + name(i)) })
        }
        let cmGet = try await row("get ConfigMap (CRD peer)") { i in try await client.expect(.GET, cmPath + "/" + name(i)) }
        for r in [cmCreate] + creates + [cmGet] + gets { report.add(r) }
        for r in creates { report.fact("\(r.name) vs ConfigMap", Self.ratio(r, cmCreate)) }
        for r in gets { report.fact("\(r.name) vs ConfigMap", Self.ratio(r, cmGet)) }
        if cleanUp {
            for (kind, _) in kinds { _ = try? await client.send(.DELETE, "\(crdPath)/\(kind.lowercased())s.\(Self.group)") }
        }
        return "\(creates[0].summary) (\(Self.ratio(creates[0], cmCreate)) vs ConfigMap), \(creates[1].summary) (\(Self.ratio(creates[1], cmCreate)))"
    }

    // MARK: validating webhook

    private func webhook(into report: inout BenchReport) async throws -> String {
        let hooked = namespace + "-hooked", plainPath = APIBenchmark.configMapsPath(namespace)
        let hookedPath = APIBenchmark.configMapsPath(hooked)
        try await createNamespace(hooked, labels: ["orca-bench/hooked": namespace])
        let client = self.client, count = self.count, ns = namespace, bench = self.bench
        let configPath = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
        let configName = "orca-bench-\(namespace)"
        let (plain, through) = try await BenchWebhookServer.run { server in
            BenchLog.info("webhook on \(server.url); registering \(configName)")
            try await client.expect(.POST, configPath, json: [
                "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
                "metadata": ["name": .string(configName)],
                "webhooks": [[
                    "name": "allow.bench.orca.dev",
                    "clientConfig": ["url": .string(server.url), "caBundle": .string(Data(server.caPEM.utf8).base64EncodedString())],
                    "rules": [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]]],
                    "namespaceSelector": ["matchLabels": ["orca-bench/hooked": .string(ns)]],
                    "sideEffects": "None", "admissionReviewVersions": ["v1"], "failurePolicy": "Fail", "timeoutSeconds": 10,
                ]],
            ])
            do {
                var probe = 0
                try await poll("webhook \(configName) in use") {
                    probe += 1
                    try await client.expect(.POST, hookedPath, json: APIBenchmark.configMap("probe-\(probe)"))
                    return server.reviews(prefix: "probe-") > 0
                }
                BenchLog.info("\(count) ConfigMap creates in \(ns), then \(count) through the webhook in \(hooked)")
                let plain = try await bench.closedLoop("create ConfigMap (no webhook)", count: count, concurrency: 1) { i in
                    try await client.expect(.POST, plainPath, json: APIBenchmark.configMap(String(format: "nohook-%05d", i)))
                }
                let through = try await bench.closedLoop("create ConfigMap (validating webhook)", count: count, concurrency: 1) { i in
                    try await client.expect(.POST, hookedPath, json: APIBenchmark.configMap(String(format: "hook-%05d", i)))
                }
                let reviews = server.reviews(prefix: "hook-")
                guard reviews == count else {
                    throw OrcaError(.internalError, "the webhook reviewed \(reviews) of \(count) ConfigMap creates")
                }
                _ = try? await client.send(.DELETE, configPath + "/" + configName)
                return (plain, through)
            } catch {
                _ = try? await client.send(.DELETE, configPath + "/" + configName)
                throw error
            }
        }
        report.add(plain)
        report.add(through)
        report.fact("create through webhook vs none", Self.ratio(through, plain))
        report.notes.append("the webhook (HTTPS on 127.0.0.1, in the bench process) reviewed all \(count) creates in \(hooked)")
        if cleanUp { _ = try? await client.send(.DELETE, "/api/v1/namespaces/\(hooked)") }
        return "\(through.summary) (\(Self.ratio(through, plain)) vs none)"
    }

    // MARK: authorization

    private func authorization(into report: inout BenchReport) async throws -> String {
        let ns = namespace, client = self.client
        let target = "/api/v1/namespaces/\(ns)/configmaps/rbac-target"
        try await ensure(APIBenchmark.configMapsPath(ns), APIBenchmark.configMap("rbac-target"))
        try await ensure("/api/v1/namespaces/\(ns)/serviceaccounts",
                         ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "bench-reader"]])
        try await ensure("/apis/rbac.authorization.k8s.io/v1/namespaces/\(ns)/rolebindings", [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "bench-reader-view"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"],
            "subjects": [["kind": "ServiceAccount", "name": "bench-reader", "namespace": .string(ns)]],
        ])
        let request = try await client.expect(.POST, "/api/v1/namespaces/\(ns)/serviceaccounts/bench-reader/token",
                                               json: ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": [:]])
        guard let token = request[path: ["status", "token"]]?.stringValue, !token.isEmpty else {
            throw OrcaError(.internalError, "TokenRequest for bench-reader returned no status.token")
        }
        let reader = try BenchAPIClient(kubeconfig: Kubeconfig(
            server: kubeconfig.server, certificateAuthorityPEM: kubeconfig.certificateAuthorityPEM,
            token: token, insecureSkipTLSVerify: kubeconfig.insecureSkipTLSVerify))
        let bindingNamespaces = (0..<100).map { "\(ns)-rb-\($0)" }
        do {
            BenchLog.info("waiting for bench-reader to be allowed to get ConfigMaps")
            try await poll("ServiceAccount bench-reader allowed by RoleBinding bench-reader-view") {
                try await reader.send(.GET, target).status == 200
            }
            BenchLog.info("\(count) gets as admin, then as ServiceAccount bench-reader (1 binding)")
            let admin1 = try await row("get as admin (system:masters)") { _ in try await client.expect(.GET, target) }
            let sa1 = try await row("get as ServiceAccount (RBAC, 1 binding)") { _ in try await reader.expect(.GET, target) }

            BenchLog.info("creating 1,000 RoleBindings over 100 namespaces")
            _ = try await bench.closedLoop("namespaces", count: bindingNamespaces.count, concurrency: 8) { i in
                try await client.expect(.POST, "/api/v1/namespaces", json: ["apiVersion": "v1", "kind": "Namespace",
                                                                            "metadata": ["name": .string(bindingNamespaces[i])]])
            }
            _ = try await bench.closedLoop("rolebindings", count: 1000, concurrency: 8) { j in
                try await client.expect(.POST, "/apis/rbac.authorization.k8s.io/v1/namespaces/\(bindingNamespaces[j % 100])/rolebindings", json: [
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": .string("rb-\(j)")],
                    "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"],
                    "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": .string("u-\(j)")]],
                ])
            }
            try await Task.sleep(for: .seconds(2))
            BenchLog.info("\(count) gets as admin, then as bench-reader (1,000 RoleBindings)")
            let admin2 = try await row("get as admin (1,000 RoleBindings)") { _ in try await client.expect(.GET, target) }
            let sa2 = try await row("get as ServiceAccount (RBAC, 1,000 RoleBindings)") { _ in try await reader.expect(.GET, target) }
            for r in [admin1, sa1, admin2, sa2] { report.add(r) }
            report.fact("get as ServiceAccount vs admin (1 binding)", Self.ratio(sa1, admin1))
            report.fact("get as ServiceAccount vs admin (1,000 RoleBindings)", Self.ratio(sa2, admin2))
            report.fact("get as ServiceAccount, 1,000 vs 1 binding", Self.ratio(sa2, sa1))
            await reader.shutdown()
            if cleanUp { await deleteNamespaces(bindingNamespaces) }
            return "\(sa1.summary) (\(Self.ratio(sa1, admin1)) vs admin), \(sa2.summary) (\(Self.ratio(sa2, admin2)))"
        } catch {
            await reader.shutdown()
            if cleanUp { await deleteNamespaces(bindingNamespaces) }
            throw error
        }
    }

    private func deleteNamespaces(_ names: [String]) async {
        let client = self.client
        _ = try? await bench.closedLoop("delete namespaces", count: names.count, concurrency: 8) { i in
            _ = try await client.send(.DELETE, "/api/v1/namespaces/\(names[i])")
        }
    }
}
