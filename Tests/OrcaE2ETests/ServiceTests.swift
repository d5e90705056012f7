import Foundation
import OrcaCore
import Testing

/// What a Service acceptance test drives: a server and its kubectl.
protocol ServiceCluster {
    func kubectl(_ args: [String], stdin: String?, timeout: TimeInterval) throws -> (status: Int32, out: String, err: String)
    func eventually(_ what: String, timeout: TimeInterval, _ condition: () throws -> Bool) throws
}

extension OrcaServerProcess: ServiceCluster {}
extension MultiNodeCluster: ServiceCluster {}

extension ServiceCluster {
    /// kubectl that must succeed; returns stdout.
    @discardableResult
    func run(_ args: String..., stdin: String? = nil) throws -> String {
        let r = try kubectl(args, stdin: stdin, timeout: 90)
        guard r.status == 0 else { throw E2EError("kubectl \(args.joined(separator: " ")) failed (\(r.status)): \(r.err)\(r.out)") }
        return r.out
    }

    /// `sh -c script` in the `client` pod of namespace `shop`; its output, whatever the exit status.
    func inClient(_ script: String, pod: String = "client") throws -> String {
        let r = try kubectl(["exec", "-n", ServiceTests.namespace, pod, "--", "sh", "-c", script], stdin: nil, timeout: 90)
        return r.out + r.err
    }

    func until(_ what: String, _ condition: () throws -> Bool) throws { try eventually(what, timeout: 90, condition) }
}

/// Issue 13's acceptance: Services through the real kubectl and real pods — endpoints from
/// the endpoint controllers, traffic through each node's nftables proxy, names from the
/// cluster DNS — on one `orca server` with its embedded node, and across three nodes.
@Suite(.serialized) struct ServiceTests {
    static let namespace = "shop"
    static let busybox = "docker.io/library/busybox:1.35"

    /// A Deployment `web` of busybox httpd answering with its pod name on the named port `http`
    /// (8080), Ready once it listens; `spread` puts one replica per node.
    static func web(replicas: Int, spread: Bool = false) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: \(namespace)}
        spec:
          replicas: \(replicas)
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              terminationGracePeriodSeconds: 1
              \(spread ? "topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}]" : "")
              containers:
              - name: web
                image: \(busybox)
                command: ["sh", "-c", "mkdir -p /www && echo $HOSTNAME > /www/index.html && exec httpd -f -p 8080 -h /www"]
                ports: [{name: http, containerPort: 8080}]
                readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
        """
    }

    /// A pod with the Service's label that serves but is never Ready: it must get no traffic.
    static func notReady(node: String?) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: notready, namespace: \(namespace), labels: {app: web}}
        spec:
          \(node.map { "nodeName: \($0)" } ?? "")
          terminationGracePeriodSeconds: 1
          containers:
          - name: web
            image: \(busybox)
            command: ["sh", "-c", "mkdir -p /www && echo notready > /www/index.html && exec httpd -f -p 8080 -h /www"]
            ports: [{name: http, containerPort: 8080}]
            readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}
        """
    }

    /// A client pod (sleeping busybox), on `node` if given.
    static func client(_ name: String = "client", node: String? = nil) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), namespace: \(namespace)}
        spec:
          \(node.map { "nodeName: \($0)" } ?? "")
          terminationGracePeriodSeconds: 1
          containers:
          - {name: c, image: \(busybox), command: ["sleep", "3600"]}
        """
    }

    /// A headless Service `db` and a StatefulSet `db` of two pods behind it.
    static let database = """
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: \(namespace)}
        spec:
          clusterIP: None
          selector: {app: db}
          ports: [{name: pg, port: 5432}]
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db, namespace: \(namespace)}
        spec:
          serviceName: db
          replicas: 2
          podManagementPolicy: Parallel
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - {name: db, image: \(busybox), command: ["sleep", "3600"]}
        """

    /// The Service's EndpointSlice endpoints: (address, ready, node).
    static func endpoints(_ c: some ServiceCluster, _ service: String) throws -> [(ip: String, ready: Bool, node: String)] {
        let out = try c.run("get", "endpointslices", "-n", namespace, "-l", "kubernetes.io/service-name=\(service)", "-o",
                            #"jsonpath={range .items[*].endpoints[*]}{.addresses[0]}={.conditions.ready}={.nodeName}{"\n"}{end}"#)
        return out.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
            return parts.count == 3 ? (parts[0], parts[1] == "true", parts[2]) : nil
        }
    }

    /// Pod name → pod IP for pods with `selector`.
    static func podIPs(_ c: some ServiceCluster, _ selector: String) throws -> [String: String] {
        let out = try c.run("get", "pods", "-n", namespace, "-l", selector, "-o",
                            #"jsonpath={range .items[*]}{.metadata.name}={.status.podIP}{"\n"}{end}"#)
        var ips: [String: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: "=").map(String.init)
            if parts.count == 2 { ips[parts[0]] = parts[1] }
        }
        return ips
    }

    /// `count` requests to `url` from the client pod; the pod names that answered.
    static func answers(_ c: some ServiceCluster, _ url: String, count: Int) throws -> [String] {
        let out = try c.inClient("for i in $(seq \(count)); do timeout 5 wget -qO- \(url); done")
        return out.split(separator: "\n").map(String.init)
    }

    /// The first address `nslookup name` gives in the client pod (nil: none).
    static func lookup(_ c: some ServiceCluster, _ name: String) throws -> [String] {
        let out = try c.inClient("nslookup \(name)")
        // busybox prints the server first ("Address: 10.43.0.10:53"), then "Address: <ip>" per answer.
        return out.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("Address:") else { return nil }
            let value = line.dropFirst("Address:".count).trimmingCharacters(in: .whitespaces)
            return value.contains(":") ? nil : value
        }
    }

    /// The web Deployment, a not-ready pod and a client, exposed as `web` (ClusterIP, port 80 →
    /// the named port `http`); returns the cluster IP once the slice has the ready replicas.
    static func exposeWeb(_ c: some ServiceCluster, replicas: Int, spread: Bool = false, notReadyNode: String? = nil,
                          clientNode: String? = nil) throws -> String {
        _ = try? c.run("create", "namespace", namespace)
        try c.run("apply", "-f", "-", stdin: web(replicas: replicas, spread: spread))
        try c.run("apply", "-f", "-", stdin: notReady(node: notReadyNode))
        try c.run("apply", "-f", "-", stdin: client(node: clientNode))
        try c.run("expose", "deployment", "web", "-n", namespace, "--port", "80", "--target-port", "http")
        try c.until("web has \(replicas) ready endpoints and the not-ready pod") {
            let eps = try endpoints(c, "web")
            return eps.filter(\.ready).count == replicas && eps.contains { !$0.ready }
        }
        try c.run("wait", "-n", namespace, "--for=condition=Ready", "pod/client", "--timeout=90s")
        return try c.run("get", "svc", "web", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}")
    }

    // MARK: one node

    /// A server whose embedded agent's pods reach the API server through the kubernetes Service,
    /// with its own bridge, pod subnet and
    /// service CIDR (other servers' proxies use 10.43.0.0/16), listening on every address.
    /// Returns once the node is Ready and the built-in busybox is stored.
    static func serverForPods() throws -> (server: OrcaServerProcess, bridge: String, serviceNet: String) {
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        let bridge = "orcs\(tag)"
        let dir = NSTemporaryDirectory() + "orca-e2e-\(tag)"
        let serviceNet = "10.\(Int.random(in: 160...199)).\(Int.random(in: 0...255))"
        let s = try OrcaServerProcess(extraArguments: ["--pod-cidr", TestPodCIDR.allocate(), "--bridge-name", bridge,
                                                       "--service-cidr", "\(serviceNet).0/24",
                                                       "--run-dir", dir + "/run", "--pod-log-dir", dir + "/logs",
                                                       "--node-name", "node-\(tag)", "--kubelet-port", "0",
                                                       "--bind-address", "0.0.0.0"], dataDir: dir)
        do {
            try s.eventually("node Ready") {
                try s.k("get", "nodes", "-o", "jsonpath={.items[0].status.conditions[?(@.type=='Ready')].status}") == "True"
            }
            // The agent builds the built-in busybox as it starts, maybe after its node is Ready.
            try s.eventually("the built-in busybox is stored") {
                let refs = try? Data(contentsOf: URL(fileURLWithPath: s.dataDir + "/images/refs.json"))
                return refs.map { String(decoding: $0, as: UTF8.self).contains(Self.busybox) } ?? false
            }
        } catch {
            PodTests.shutdown(s, bridge: bridge)
            throw error
        }
        return (s, bridge, serviceNet)
    }

    @Test func servicesOnOneNode() throws {
        let (s, bridge, serviceNet) = try Self.serverForPods()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let table = "orca-proxy-\(bridge)"
        let clusterIP = try Self.exposeWeb(s, replicas: 2)
        #expect(clusterIP.hasPrefix(serviceNet + "."))
        let web = try Self.podIPs(s, "app=web")

        // ClusterIP and DNS name: only the ready replicas answer, both of them.
        try s.until("the proxy has web's rules") { try Self.answers(s, "http://\(clusterIP)/", count: 1).count == 1 }
        let byIP = try Self.answers(s, "http://\(clusterIP)/", count: 20)
        #expect(byIP.count == 20)
        #expect(!byIP.contains("notready"))
        #expect(Set(byIP) == Set(web.keys.filter { $0 != "notready" }), "\(byIP)")
        let byName = try Self.answers(s, "http://web.\(Self.namespace).svc.cluster.local/", count: 4)
        #expect(byName.count == 4 && !byName.contains("notready"), "\(byName)")
        #expect(try Self.lookup(s, "web") == [clusterIP])
        let resolv = try s.inClient("cat /etc/resolv.conf")
        #expect(resolv.contains("nameserver \(serviceNet).10"))
        #expect(resolv.contains("search \(Self.namespace).svc.cluster.local svc.cluster.local cluster.local"))
        #expect(resolv.contains("options ndots:5"))

        // Hairpin: a replica reaches itself and its peer through the Service.
        let replica = try #require(web.keys.first { $0 != "notready" })
        let hairpin = try s.inClient("for i in 1 2 3 4 5 6; do timeout 5 wget -qO- http://web/; done", pod: replica)
        #expect(hairpin.split(separator: "\n").count == 6, "\(hairpin)")

        // ClientIP affinity: one client, one replica.
        try s.run("patch", "svc", "web", "-n", Self.namespace, "-p", #"{"spec":{"sessionAffinity":"ClientIP"}}"#)
        try s.until("a client sticks to one replica") { Set(try Self.answers(s, "http://web/", count: 10)).count == 1 }
        try s.run("patch", "svc", "web", "-n", Self.namespace, "-p", #"{"spec":{"sessionAffinity":"None"}}"#)

        // The kubernetes Service reaches the API server from pods.
        let version = try s.inClient("timeout 10 wget -qO- --no-check-certificate https://kubernetes.default.svc/version")
        #expect(version.contains("gitVersion"), "\(version)")
        // Deleted, it comes back (kube-apiserver's kubernetes-service controller).
        try s.run("delete", "service", "kubernetes", "-n", "default")
        try s.until("the kubernetes Service is back") {
            try s.kubectl(["get", "service", "kubernetes", "-n", "default", "-o", "jsonpath={.spec.clusterIP}"], stdin: nil, timeout: 30).out
                == "\(serviceNet).1"
        }

        // Service variables in pods made after the Service; none with enableServiceLinks: false.
        try s.run("apply", "-f", "-", stdin: Self.client("late"))
        try s.run("wait", "-n", Self.namespace, "--for=condition=Ready", "pod/late", "--timeout=90s")
        let env = try s.inClient("env", pod: "late")
        #expect(env.contains("WEB_SERVICE_HOST=\(clusterIP)"), "\(env)")
        #expect(env.contains("WEB_PORT_80_TCP=tcp://\(clusterIP):80"))
        #expect(env.contains("KUBERNETES_SERVICE_PORT=443"))

        // NodePort from the host, on the node's address.
        try s.run("patch", "svc", "web", "-n", Self.namespace, "-p", #"{"spec":{"type":"NodePort"}}"#)
        let nodePort = try s.run("get", "svc", "web", "-n", Self.namespace, "-o", "jsonpath={.spec.ports[0].nodePort}")
        let nodeIP = try s.run("get", "nodes", "-o", #"jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}"#)
        try s.until("node port \(nodePort) answers on \(nodeIP)") {
            let r = try OrcaServerProcess.run("/usr/bin/curl", ["-s", "--max-time", "3", "http://\(nodeIP):\(nodePort)/"])
            return r.status == 0 && web.keys.contains(r.out.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        // A headless Service answers with each ready pod; StatefulSet pods by their stable names.
        try s.run("apply", "-f", "-", stdin: Self.database)
        try s.until("db's pods have addresses") { try Self.podIPs(s, "app=db").count == 2 }
        try s.until("db resolves to both pods") {
            Set(try Self.lookup(s, "db.\(Self.namespace).svc.cluster.local")) == Set(try Self.podIPs(s, "app=db").values)
        }
        let db0 = try #require(try Self.podIPs(s, "app=db")["db-0"])
        #expect(try Self.lookup(s, "db-0.db.\(Self.namespace).svc.cluster.local") == [db0])
        let srv = try s.inClient("nslookup -type=SRV _pg._tcp.db.\(Self.namespace).svc.cluster.local")
        #expect(srv.contains("5432 db-0.db.\(Self.namespace).svc.cluster.local"), "\(srv)")
        #expect(try s.inClient("nslookup nothere.\(Self.namespace).svc.cluster.local").contains("NXDOMAIN"))

        // No ready endpoint: refused at once, no hang.
        try s.run("create", "service", "clusterip", "empty", "-n", Self.namespace, "--tcp=80:80")
        try s.until("empty is refused") {
            try s.inClient("timeout 5 wget -qO- http://empty/; echo rc=$?").contains("Connection refused")
        }

        // Tools: describe shows the endpoints; port-forward reaches a replica through the Service.
        let described = try s.run("describe", "service", "web", "-n", Self.namespace)
        #expect(described.contains("Endpoints:"))
        #expect(web.filter { $0.key != "notready" }.values.allSatisfy { described.contains("\($0):8080") }, "\(described)")
        #expect(try s.run("get", "endpointslices", "-n", Self.namespace).contains("web-"))
        let port = try LoopbackPort.free()
        let forward = Process()
        forward.executableURL = URL(fileURLWithPath: "/usr/bin/kubectl")
        forward.arguments = ["port-forward", "-n", Self.namespace, "svc/web", "\(port):80"]
        forward.environment = ["KUBECONFIG": s.kubeconfig]
        forward.standardOutput = FileHandle.nullDevice
        forward.standardError = FileHandle.nullDevice
        try forward.run()
        defer { forward.terminate(); forward.waitUntilExit() }
        try s.until("port-forward svc/web answers") {
            let r = try OrcaServerProcess.run("/usr/bin/curl", ["-s", "--max-time", "3", "http://127.0.0.1:\(port)/"])
            return r.status == 0 && web.keys.contains(r.out.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        // Bad input is 422 and creates nothing.
        let bad = try s.kubectl(["apply", "--validate=false", "-f", "-"], stdin: """
            apiVersion: v1
            kind: Service
            metadata: {name: bad, namespace: \(Self.namespace)}
            spec: {ports: [{port: 80, protocol: HTTP}]}
            """)
        #expect(bad.status != 0 && bad.err.contains(#"spec.ports[0].protocol: Unsupported value: "HTTP""#), "\(bad.err)")
        #expect(try s.kubectl(["get", "svc", "bad", "-n", Self.namespace]).status != 0)

        // Scaling changes the endpoints; deleting the Service removes its rules.
        try s.run("scale", "deployment", "web", "-n", Self.namespace, "--replicas=1")
        try s.until("web has one ready endpoint") { try Self.endpoints(s, "web").filter(\.ready).count == 1 }
        #expect(try OrcaServerProcess.run("/usr/sbin/nft", ["list", "table", "ip", table]).out.contains(clusterIP))
        try s.run("delete", "service", "web", "-n", Self.namespace)
        try s.until("web's rules are gone") {
            !(try OrcaServerProcess.run("/usr/sbin/nft", ["list", "table", "ip", table]).out.contains(clusterIP))
        }
        // The agent stopping takes its table with it.
        PodTests.shutdown(s, bridge: bridge)
        #expect(!(try OrcaServerProcess.run("/usr/sbin/nft", ["list", "tables"]).out.contains(table)))
    }

    // MARK: three nodes

    @Test func servicesAcrossThreeNodes() throws {
        let c = try MultiNodeCluster(nodes: 3)
        defer { c.shutdown() }
        let nodes = c.nodeNames
        let clusterIP = try Self.exposeWeb(c, replicas: 3, spread: true, notReadyNode: nodes[2], clientNode: nodes[0])
        let eps = try Self.endpoints(c, "web")
        #expect(Set(eps.filter(\.ready).map(\.node)) == Set(nodes), "one ready replica per node: \(eps)")
        let web = try Self.podIPs(c, "app=web")

        // Traffic from node 0 is spread over the replicas of every node, never to the not-ready pod.
        try c.until("the proxy has web's rules") { try Self.answers(c, "http://web.\(Self.namespace).svc.cluster.local/", count: 1).count == 1 }
        let answers = try Self.answers(c, "http://web.\(Self.namespace).svc.cluster.local/", count: 30)
        #expect(answers.count == 30)
        #expect(!answers.contains("notready"))
        #expect(Set(answers).count >= 2, "\(answers)")
        #expect(Set(answers).isSubset(of: Set(web.keys)))
        #expect(try Self.answers(c, "http://\(clusterIP)/", count: 3).count == 3)

        // A NodePort answers on every node's address, from the host.
        try c.run("patch", "svc", "web", "-n", Self.namespace, "-p", #"{"spec":{"type":"NodePort"}}"#)
        let nodePort = try c.run("get", "svc", "web", "-n", Self.namespace, "-o", "jsonpath={.spec.ports[0].nodePort}")
        for host in c.hosts {
            try c.until("node port \(nodePort) answers on \(host.ip)") {
                let r = try OrcaServerProcess.run("/usr/bin/curl", ["-s", "--max-time", "3", "http://\(host.ip):\(nodePort)/"])
                return r.status == 0 && web.keys.contains(r.out.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }

        // externalTrafficPolicy Local: a node port answers only on nodes with a ready replica,
        // and only with that node's own replica.
        try c.run("scale", "deployment", "web", "-n", Self.namespace, "--replicas=2")
        try c.until("web has two ready endpoints") { try Self.endpoints(c, "web").filter(\.ready).count == 2 }
        try c.run("patch", "svc", "web", "-n", Self.namespace, "-p", #"{"spec":{"externalTrafficPolicy":"Local"}}"#)
        let local = try Self.endpoints(c, "web").filter(\.ready)
        for host in c.hosts {
            let mine = Set(local.filter { $0.node == host.nodeName }.map(\.ip))
            let names = Set(web.filter { mine.contains($0.value) }.map(\.key))
            try c.until("node port with Local policy on \(host.nodeName): \(names.isEmpty ? "no answer" : "its own replica")") {
                let r = try OrcaServerProcess.run("/usr/bin/curl", ["-s", "--max-time", "2", "http://\(host.ip):\(nodePort)/"])
                let answer = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
                return names.isEmpty ? r.status != 0 : names.contains(answer)
            }
        }

        // LoadBalancer: the nodes' addresses as ingress; the Service port answers on them.
        try c.run("patch", "svc", "web", "-n", Self.namespace, "-p", #"{"spec":{"type":"LoadBalancer","externalTrafficPolicy":"Cluster"}}"#)
        try c.until("web has the nodes as load balancer ingress") {
            let ingress = try c.run("get", "svc", "web", "-n", Self.namespace, "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}")
            return Set(ingress.split(separator: " ").map(String.init)) == Set(c.hosts.map(\.ip))
        }
        try c.until("port 80 answers on \(c.hosts[2].ip)") {
            let r = try OrcaServerProcess.run("/usr/bin/curl", ["-s", "--max-time", "3", "http://\(c.hosts[2].ip):80/"])
            return r.status == 0 && web.keys.contains(r.out.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        // StatefulSet pods on other nodes resolve by their stable names.
        try c.run("apply", "-f", "-", stdin: Self.database)
        try c.until("db's pods have addresses") { try Self.podIPs(c, "app=db").count == 2 }
        let db = try Self.podIPs(c, "app=db")
        try c.until("db-1 resolves") {
            try Self.lookup(c, "db-1.db.\(Self.namespace).svc.cluster.local") == [db["db-1"] ?? "-"]
        }

        // Scaling down changes the endpoints on every node; deleting the Service removes the rules everywhere.
        try c.run("scale", "deployment", "web", "-n", Self.namespace, "--replicas=1")
        try c.until("web has one ready endpoint") { try Self.endpoints(c, "web").filter(\.ready).count == 1 }
        try c.until("traffic goes to the one replica left") { Set(try Self.answers(c, "http://\(clusterIP)/", count: 5)).count == 1 }
        try c.run("delete", "service", "web", "-n", Self.namespace)
        for host in c.hosts {
            try c.until("web's rules are gone on \(host.nodeName)") {
                !(try host.inside("/usr/sbin/nft", ["list", "table", "ip", "orca-proxy-\(host.bridgeName)"]).contains(clusterIP))
            }
        }
    }
}
