import Foundation
import Testing

/// The acceptance of CRDs, RBAC and ServiceAccount tokens: a kopf operator (Python, from PyPI)
/// runs in a pod under a ServiceAccount that is granted only what it needs, and reconciles the
/// objects of a CustomResourceDefinition into ConfigMaps through the kubernetes Service; tokens
/// from `kubectl create token` are authorized by RBAC as it changes and refused when forged.
@Suite(.serialized) struct OperatorTests {
    static let busybox = "docker.io/library/busybox:1.35"

    static let crd = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: crontabs.stable.example.com}
        spec:
          group: stable.example.com
          scope: Namespaced
          names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
          versions:
          - name: v1
            served: true
            storage: true
            subresources: {status: {}}
            additionalPrinterColumns:
            - {name: Spec, type: string, jsonPath: .spec.cronSpec}
            - {name: Replicas, type: integer, jsonPath: .spec.replicas}
            - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
            schema:
              openAPIV3Schema:
                type: object
                required: [spec]
                properties:
                  spec:
                    type: object
                    required: [cronSpec]
                    properties:
                      cronSpec: {type: string}
                      replicas: {type: integer, minimum: 1, maximum: 10}
                  status:
                    type: object
                    x-kubernetes-preserve-unknown-fields: true
        """

    /// The operator's ServiceAccount and exactly what kopf needs: its CronTabs (it adds a
    /// finalizer and annotations, and writes its handlers' results to the status), the
    /// ConfigMaps it manages and the Events it posts; cluster-wide, listing and watching
    /// namespaces and CRDs (kopf observes both; it only warns without them).
    static let rbac = """
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: crontab-operator, namespace: default}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: crontab-operator, namespace: default}
        rules:
        - {apiGroups: [stable.example.com], resources: [crontabs], verbs: [get, list, watch, patch, update]}
        - {apiGroups: [stable.example.com], resources: [crontabs/status], verbs: [patch]}
        - {apiGroups: [""], resources: [configmaps], verbs: [get, list, create, delete, patch]}
        - {apiGroups: [""], resources: [events], verbs: [create, patch]}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: crontab-operator, namespace: default}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: crontab-operator}
        subjects: [{kind: ServiceAccount, name: crontab-operator, namespace: default}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: crontab-operator-observer}
        rules:
        - {apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions], verbs: [list, watch]}
        - {apiGroups: [""], resources: [namespaces], verbs: [list, watch]}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: crontab-operator-observer}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: crontab-operator-observer}
        subjects: [{kind: ServiceAccount, name: crontab-operator, namespace: default}]
        """

    /// The operator: a ConfigMap `<name>-cron` with the CronTab's cronSpec, kept up to date,
    /// deleted with the CronTab (kopf's finalizer holds the deletion until the handler ran).
    /// kopf reaches the API server at https://kubernetes.default.svc (cluster DNS, the
    /// certificate's DNS name); the handlers by KUBERNETES_SERVICE_HOST (its IP address).
    static let script = #"""
        """The CronTab operator of Orca's end-to-end test: a ConfigMap <name>-cron for each CronTab."""
        import json
        import os
        import ssl
        import urllib.error
        import urllib.request

        import kopf

        ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount'
        API = f"https://{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ['KUBERNETES_SERVICE_PORT']}"


        def call(method, path, body=None, content_type='application/json', accept=()):
            """One request with the pod's ServiceAccount token; a failure is retried by kopf in 2 s."""
            with open(ACCOUNT + '/token', encoding='utf-8') as f:
                token = f.read().strip()
            request = urllib.request.Request(
                API + path, method=method, data=None if body is None else json.dumps(body).encode(),
                headers={'Authorization': 'Bearer ' + token, 'Accept': 'application/json', 'Content-Type': content_type})
            context = ssl.create_default_context(cafile=ACCOUNT + '/ca.crt')
            try:
                with urllib.request.urlopen(request, context=context, timeout=30) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                if error.code in accept:
                    return error.code
                raise kopf.TemporaryError(f'{method} {path}: {error.code} {error.reason}: {error.read().decode()}', delay=2)
            except OSError as error:
                raise kopf.TemporaryError(f'{method} {path}: {error}', delay=2)


        @kopf.on.create('stable.example.com', 'v1', 'crontabs')
        def create_fn(body, name, namespace, spec, logger, **_):
            config_map = {'apiVersion': 'v1', 'kind': 'ConfigMap',
                          'metadata': {'name': f'{name}-cron', 'labels': {'crontab': name}},
                          'data': {'cronSpec': spec['cronSpec']}}
            call('POST', f'/api/v1/namespaces/{namespace}/configmaps', config_map, accept=(409,))
            logger.info(f'ConfigMap {name}-cron created')
            # kopf posts log lines as Events only with settings.posting.loggers (off by default in kopf 1.45): post one explicitly.
            kopf.info(body, reason='ConfigMapCreated', message=f'ConfigMap {name}-cron created')
            return {'configMap': f'{name}-cron'}


        @kopf.on.update('stable.example.com', 'v1', 'crontabs', field='spec.cronSpec')
        def update_fn(name, namespace, new, logger, **_):
            call('PATCH', f'/api/v1/namespaces/{namespace}/configmaps/{name}-cron', {'data': {'cronSpec': new}},
                 content_type='application/merge-patch+json')
            logger.info(f'ConfigMap {name}-cron updated')


        @kopf.on.delete('stable.example.com', 'v1', 'crontabs')
        def delete_fn(name, namespace, logger, **_):
            call('DELETE', f'/api/v1/namespaces/{namespace}/configmaps/{name}-cron', accept=(404,))
            logger.info(f'ConfigMap {name}-cron deleted')
        """#

    static func operatorPod(image: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: crontab-operator, labels: {app: crontab-operator}}
        spec:
          serviceAccountName: crontab-operator
          terminationGracePeriodSeconds: 5
          volumes: [{name: code, configMap: {name: crontab-operator-code}}]
          containers:
          - name: operator
            image: "\(image)"
            imagePullPolicy: Never
            command: ["/usr/bin/python3", "-m", "kopf", "run", "--standalone", "--namespace=default",
                      "--liveness=http://0.0.0.0:8080/healthz", "/operator/op.py"]
            env:
            - {name: PYTHONPATH, value: "\(PythonImage.packagesPath)"}
            - {name: PYTHONUNBUFFERED, value: "1"}
            - name: POD_ID
              valueFrom: {fieldRef: {fieldPath: metadata.name}}
            volumeMounts: [{name: code, mountPath: /operator, readOnly: true}]
            readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
        """
    }

    static func cronTab(_ name: String, cronSpec: String, replicas: Int) -> String {
        """
        apiVersion: stable.example.com/v1
        kind: CronTab
        metadata: {name: \(name), namespace: default}
        spec: {cronSpec: "\(cronSpec)", replicas: \(replicas)}
        """
    }

    /// The cells of a `kubectl get` table row by column name (columns start where the header's do).
    static func cells(_ row: String, header: String) -> [String: String] {
        let h = Array(header), r = Array(row)
        let starts = h.indices.filter { h[$0] != " " && ($0 == 0 || h[$0 - 1] == " ") }
        var cells: [String: String] = [:]
        for (n, start) in starts.enumerated() {
            let end = n + 1 < starts.count ? starts[n + 1] : max(h.count, r.count)
            let name = String(h[start..<min(end, h.count)]).trimmingCharacters(in: .whitespaces)
            cells[name] = start < r.count ? String(r[start..<min(end, r.count)]).trimmingCharacters(in: .whitespaces) : ""
        }
        return cells
    }

    // MARK: the operator

    @Test func kopfOperatorReconcilesCustomResourcesUnderItsServiceAccount() throws {
        let packages = PythonImage.kopfPackages
        try #require(FileManager.default.fileExists(atPath: packages + "/kopf/__init__.py"),
                     "kopf is not installed in \(packages): run `make deps` (it installs kopf and its dependencies from PyPI there)")
        let (s, bridge, serviceNet) = try ServiceTests.serverForPods()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        let image = try PythonImage(store: s.dataDir + "/images", base: Self.busybox, packages: packages,
                                    name: "example.com/orca-e2e/kopf:\(tag)")
        defer { image.remove() }
        try image.load(into: s.dataDir)

        // The CRD: established, then its schema is enforced with 422s that name the field.
        try s.run("apply", "-f", "-", stdin: Self.crd)
        try s.run("wait", "--for", "condition=established", "crd/crontabs.stable.example.com", "--timeout=60s")
        let api = try RawAPI(s)
        let path = "/apis/stable.example.com/v1/namespaces/default/crontabs"
        let tooMany = try api.post(path, #"{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"bad"},"spec":{"cronSpec":"* * * * *","replicas":11}}"#)
        #expect(tooMany.code == 422, "\(tooMany.text)")
        #expect(tooMany.json.string("reason") == "Invalid", "\(tooMany.text)")
        #expect(tooMany.json.string("message")?.contains("spec.replicas") == true, "\(tooMany.text)")
        let noSpec = try api.post(path, #"{"apiVersion":"stable.example.com/v1","kind":"CronTab","metadata":{"name":"bad"},"spec":{"replicas":2}}"#)
        #expect(noSpec.code == 422 && noSpec.text.contains("spec.cronSpec"), "\(noSpec.text)")
        let byKubectl = try s.kubectl(["apply", "-f", "-"], stdin: Self.cronTab("bad", cronSpec: "* * * * *", replicas: 11))
        #expect(byKubectl.status != 0 && byKubectl.err.contains("spec.replicas"), "\(byKubectl.err)")
        #expect(try s.kubectl(["get", "crontab", "bad"]).status != 0, "an invalid CronTab was stored")

        // A CronTab made before the operator runs is handled when it starts.
        try s.run("apply", "-f", "-", stdin: Self.cronTab("c0", cronSpec: "0 0 * * *", replicas: 1))

        // The operator: ServiceAccount, RBAC, its code in a ConfigMap, the pod.
        try s.run("apply", "-f", "-", stdin: Self.rbac)
        let scriptPath = s.dataDir + "/op.py"
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        try s.run("create", "configmap", "crontab-operator-code", "--from-file=op.py=\(scriptPath)")
        try s.run("apply", "-f", "-", stdin: Self.operatorPod(image: image.name))
        func logs() -> String {
            let r = try? s.kubectl(["logs", "crontab-operator"], stdin: nil, timeout: 30)
            return (r?.out ?? "") + (r?.err ?? "")
        }
        // Runs `body`; a failure carries the operator pod and its logs.
        func withLogs(_ body: () throws -> Void) throws {
            do { try body() } catch {
                let pod = (try? s.kubectl(["describe", "pod", "crontab-operator"]))?.out ?? ""
                let events = (try? s.kubectl(["get", "events", "-o", "wide"]))?.out ?? ""
                throw E2EError("\(error)\n--- operator pod:\n\(pod)\n--- events:\n\(events)\n--- operator logs:\n\(logs())")
            }
        }
        try withLogs {
            let ready = try s.kubectl(["wait", "--for=condition=Ready", "pod/crontab-operator", "--timeout=150s"], timeout: 170)
            guard ready.status == 0 else { throw E2EError("the operator pod is not Ready: \(ready.err)") }
        }

        // What the pod was given: the projected token of its ServiceAccount, the CA, its namespace,
        // and the kubernetes Service's address.
        let namespace = try s.run("exec", "crontab-operator", "--", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        #expect(namespace.trimmingCharacters(in: .whitespacesAndNewlines) == "default", "\(namespace)")
        let podToken = try s.run("exec", "crontab-operator", "--", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/token")
        #expect(BearerTokenKubectl.claims(podToken).string("sub") == "system:serviceaccount:default:crontab-operator", "\(podToken)")
        let ca = try s.run("exec", "crontab-operator", "--", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
        #expect(ca.contains("-----BEGIN CERTIFICATE-----"), "\(ca)")
        let env = try s.run("exec", "crontab-operator", "--", "env")
        #expect(env.contains("KUBERNETES_SERVICE_HOST=\(serviceNet).1\n"), "\(env)")
        #expect(env.contains("KUBERNETES_SERVICE_PORT=443\n"), "\(env)")

        // A CronTab: printed with the CRD's columns, and reconciled into a ConfigMap.
        try s.run("apply", "-f", "-", stdin: Self.cronTab("c1", cronSpec: "* * * * */5", replicas: 3))
        let table = try s.run("get", "crontabs")
        let lines = table.split(separator: "\n").map(String.init)
        let header = lines.first ?? ""
        #expect(header.split(separator: " ") == ["NAME", "SPEC", "REPLICAS", "AGE"], "\(table)")
        let row = try #require(lines.first(where: { $0.hasPrefix("c1 ") }), "\(table)")
        let cells = Self.cells(row, header: header)
        #expect(cells["SPEC"] == "* * * * */5", "\(table)")
        #expect(cells["REPLICAS"] == "3", "\(table)")
        #expect(cells["AGE"]?.isEmpty == false, "\(table)")
        #expect(try s.run("get", "ct", "c1", "-o", "name") == "crontab.stable.example.com/c1\n")

        func cronSpec(of configMap: String) throws -> String? {
            let r = try s.kubectl(["get", "configmap", configMap, "-o", "jsonpath={.data.cronSpec}"])
            return r.status == 0 ? r.out : nil
        }
        try withLogs {
            try s.eventually("the operator makes c1-cron", timeout: 120) { try cronSpec(of: "c1-cron") == "* * * * */5" }
            try s.eventually("the operator handles c0, made before it started", timeout: 120) { try cronSpec(of: "c0-cron") == "0 0 * * *" }
            // kopf's finalizer, its handler's result in the status (the status subresource) and its Events.
            try s.eventually("c1 carries the handler's result in its status", timeout: 60) {
                try s.k("get", "crontab", "c1", "-o", "jsonpath={.status.create_fn.configMap}") == "c1-cron"
            }
            try s.eventually("kopf records what it handled on c1", timeout: 60) {
                try s.k("get", "crontab", "c1", "-o", "jsonpath={.metadata.annotations}").contains("kopf.zalando.org/last-handled-configuration")
            }
            try s.eventually("kopf posts an Event about c1", timeout: 60) {
                try s.k("get", "events", "--field-selector", "involvedObject.name=c1,reason=ConfigMapCreated",
                        "-o", "jsonpath={.items[*].message}") == "ConfigMap c1-cron created"
            }
        }
        #expect(try s.k("get", "crontab", "c1", "-o", "jsonpath={.metadata.finalizers}").contains("kopf.zalando.org/KopfFinalizerMarker"))

        // An update of the watched field reaches the ConfigMap.
        try s.run("patch", "crontab", "c1", "--type=merge", "-p", #"{"spec":{"cronSpec":"0 * * * *"}}"#)
        try withLogs {
            try s.eventually("the operator updates c1-cron", timeout: 120) { try cronSpec(of: "c1-cron") == "0 * * * *" }
        }

        // Deleting c1 runs the delete handler before c1 goes (kopf's finalizer).
        try s.run("delete", "crontab", "c1", "--wait=false")
        try withLogs {
            try s.eventually("the operator deletes c1-cron", timeout: 120) { try cronSpec(of: "c1-cron") == nil }
            try s.eventually("c1 is gone once its finalizer is removed", timeout: 60) {
                let r = try s.kubectl(["get", "crontab", "c1"])
                return r.status != 0 && r.err.contains("NotFound")
            }
        }

        // The operator was never refused, and it could observe CRDs and namespaces.
        let operatorLogs = logs()
        #expect(!operatorLogs.lowercased().contains("forbidden"), "\(operatorLogs)")
        #expect(!operatorLogs.contains("Not enough permissions"), "\(operatorLogs)")

        // Its ServiceAccount may do what its Role and ClusterRole say, and nothing else.
        let token = try s.run("create", "token", "crontab-operator").trimmingCharacters(in: .whitespacesAndNewlines)
        let operatorClient = try BearerTokenKubectl(s, token: token)
        let rules = try operatorClient.must("auth", "can-i", "--list")
        let resources = rules.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(resources.contains("crontabs.stable.example.com"), "\(rules)")
        #expect(resources.contains("configmaps"), "\(rules)")
        #expect(!resources.contains(where: { $0.hasPrefix("secrets") || $0 == "*.*" || $0 == "pods" }), "\(rules)")
        for (args, expected) in [(["create", "configmaps"], "yes"), (["patch", "crontabs.stable.example.com", "--subresource=status"], "yes"),
                                 (["watch", "customresourcedefinitions.apiextensions.k8s.io"], "yes"),
                                 (["get", "secrets"], "no"), (["delete", "crontabs.stable.example.com"], "no"),
                                 (["create", "configmaps", "-n", "kube-system"], "no")] {
            let answer = try operatorClient.kubectl(["auth", "can-i"] + args)
            #expect(answer.out.split(separator: "\n").first.map(String.init) == expected, "can-i \(args): \(answer.out)\(answer.err)")
        }
    }

    // MARK: tokens and RBAC

    @Test func serviceAccountTokensAreAuthorizedByRBAC() throws {
        setenv("ORCA_TEST_ENDPOINTS", "1", 1)  // POST /debug/orca/token-clock, to see a token expire
        let s = try OrcaServerProcess()
        defer { s.stop() }
        try s.run("create", "serviceaccount", "reader")
        let token = try s.run("create", "token", "reader").trimmingCharacters(in: .whitespacesAndNewlines)
        let reader = try BearerTokenKubectl(s, token: token)

        // Authenticated as the ServiceAccount, authorized for nothing yet.
        #expect(try reader.must("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}") == "system:serviceaccount:default:reader")
        let groups = try reader.must("auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}")
        #expect(groups.contains("system:serviceaccounts:default") && groups.contains("system:authenticated"), "\(groups)")
        let denied = try reader.kubectl(["get", "pods"])
        #expect(denied.status != 0 && denied.err.contains("Forbidden"), "\(denied.err)")
        #expect(denied.err.contains("system:serviceaccount:default:reader"), "\(denied.err)")
        #expect(try reader.code("/api/v1/namespaces/default/pods") == 403)

        // A RoleBinding to the view ClusterRole applies at once (within the poll), only in its namespace.
        try s.run("create", "rolebinding", "reader-view", "--clusterrole=view", "--serviceaccount=default:reader")
        try s.until("the binding lets the token list pods") { try reader.kubectl(["get", "pods"]).status == 0 }
        let secrets = try reader.kubectl(["get", "secrets"])
        #expect(secrets.status != 0 && secrets.err.contains("Forbidden"), "view does not read secrets: \(secrets.err)")
        let elsewhere = try reader.kubectl(["get", "pods", "-n", "kube-system"])
        #expect(elsewhere.status != 0 && elsewhere.err.contains("Forbidden"), "\(elsewhere.err)")
        // The admin may act as the ServiceAccount (`--as`) and is then held to its rights.
        let asReader = "--as=system:serviceaccount:default:reader"
        #expect(try s.run("auth", "can-i", "list", "pods", asReader).hasPrefix("yes"))
        #expect(try s.kubectl(["auth", "can-i", "list", "secrets", asReader]).out.hasPrefix("no"))
        #expect(try s.run("auth", "whoami", asReader, "-o", "jsonpath={.status.userInfo.username}") == "system:serviceaccount:default:reader")
        let impersonated = try s.kubectl(["get", "secrets", asReader])
        #expect(impersonated.status != 0 && impersonated.err.contains("User \"system:serviceaccount:default:reader\" cannot list"), "\(impersonated.err)")

        // A token with a duration of its own works; its claims say so.
        let short = try s.run("create", "token", "reader", "--duration=10m").trimmingCharacters(in: .whitespacesAndNewlines)
        let claims = BearerTokenKubectl.claims(short)
        #expect(claims.string("sub") == "system:serviceaccount:default:reader", "\(claims)")
        let lifetime = ((claims["exp"] as? NSNumber)?.intValue ?? 0) - ((claims["iat"] as? NSNumber)?.intValue ?? 0)
        #expect(lifetime == 600, "\(claims)")
        let shortClient = try BearerTokenKubectl(s, token: short)
        #expect(try shortClient.kubectl(["get", "pods"]).status == 0)
        #expect(try shortClient.code("/api/v1/namespaces/default/pods") == 200)

        // A token whose signature was tampered with is not a token: 401.
        let forged = try BearerTokenKubectl(s, token: BearerTokenKubectl.tamperedSignature(short))
        #expect(try forged.code("/api/v1/namespaces/default/pods") == 401)
        let refused = try forged.kubectl(["get", "pods"])
        #expect(refused.status != 0 && refused.err.contains("Unauthorized"), "\(refused.err)")

        // Without the binding the token is forbidden again; without the ServiceAccount, refused.
        try s.run("delete", "rolebinding", "reader-view")
        try s.until("the token is forbidden again") { try shortClient.code("/api/v1/namespaces/default/pods") == 403 }
        try s.run("delete", "serviceaccount", "reader")
        try s.until("the deleted ServiceAccount's token is refused") { try shortClient.code("/api/v1/namespaces/default/pods") == 401 }

        // A token works until it expires: the server's token clock is moved on (test-only endpoint)
        // rather than waited for; go-jose's minute of leeway counts, as in kube.
        try s.run("create", "serviceaccount", "expiring")
        let expiring = try BearerTokenKubectl(s, token: try s.run("create", "token", "expiring", "--duration=10m")
            .trimmingCharacters(in: .whitespacesAndNewlines))
        let api = try RawAPI(s)
        func advanceTokenClock(_ seconds: Int) throws {
            let r = try api.call("POST", "/debug/orca/token-clock?advanceSeconds=\(seconds)")
            try #require(r.code == 200, "the test-only token clock: \(r.text)")
        }
        #expect(try expiring.must("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}") == "system:serviceaccount:default:expiring")
        try advanceTokenClock(600)
        #expect(try expiring.kubectl(["auth", "whoami"]).status == 0, "still within the leeway")
        try advanceTokenClock(61)
        let expired = try expiring.kubectl(["auth", "whoami"])
        #expect(expired.status != 0 && expired.err.contains("Unauthorized"), "\(expired.err)")
        #expect(try expiring.code("/api/v1/namespaces/default/pods") == 401)
        try advanceTokenClock(-661)
    }
}

/// kubectl and curl as the holder of a bearer token: a kubeconfig of its own with only the
/// server, its CA and the token (no client certificate, which would win over the token).
struct BearerTokenKubectl {
    let server: String
    let caFile: String
    let token: String
    let kubeconfig: String

    init(_ s: OrcaServerProcess, token: String) throws {
        server = try s.k("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}")
        caFile = s.dataDir + "/tls/ca.crt"
        self.token = token
        kubeconfig = s.dataDir + "/token-\(UUID().uuidString.prefix(8)).kubeconfig"
        let config = """
            apiVersion: v1
            kind: Config
            clusters: [{name: orca, cluster: {server: "\(server)", certificate-authority: "\(caFile)"}}]
            users: [{name: bearer, user: {token: "\(token)"}}]
            contexts: [{name: bearer, context: {cluster: orca, user: bearer, namespace: default}}]
            current-context: bearer
            """
        try config.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
    }

    func kubectl(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        try OrcaServerProcess.run("/usr/bin/kubectl", ["--kubeconfig", kubeconfig] + args, timeout: 60)
    }

    /// kubectl that must succeed; returns stdout.
    func must(_ args: String...) throws -> String {
        let r = try kubectl(args)
        guard r.status == 0 else { throw E2EError("kubectl \(args.joined(separator: " ")) with a token failed (\(r.status)): \(r.err)\(r.out)") }
        return r.out
    }

    /// The HTTP status of a GET of `path` with the token.
    func code(_ path: String) throws -> Int {
        let r = try OrcaServerProcess.run("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", caFile,
                                                            "-H", "Authorization: Bearer \(token)", server + path])
        guard r.status == 0, let code = Int(r.out) else { throw E2EError("curl \(path) failed (\(r.status)): \(r.err)") }
        return code
    }

    /// The claims of a JWT (its payload, base64url-decoded).
    static func claims(_ jwt: String) -> [String: Any] {
        let parts = jwt.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return [:] }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return [:] }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// `jwt` with one character in the middle of its signature changed (a whole sextet, so the
    /// signature's bytes change whatever the decoder does with the last character's spare bits).
    static func tamperedSignature(_ jwt: String) -> String {
        var parts = jwt.split(separator: ".", omittingEmptySubsequences: false).map { Array($0) }
        guard parts.count == 3, parts[2].count > 2 else { return jwt + "x" }
        let i = parts[2].count / 2
        parts[2][i] = parts[2][i] == "A" ? "B" : "A"
        return parts.map { String($0) }.joined(separator: ".")
    }
}
