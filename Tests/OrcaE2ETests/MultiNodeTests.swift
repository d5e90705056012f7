import Foundation
import OrcaCore
import Testing

/// Issue 12's acceptance: several `orca agent`s, each on its own test host (a network
/// namespace on a private bridge), join one `orca server --disable-agent` over HTTPS with its
/// node token, and run real pods (runc, conmon, CNI) that the scheduler and the workload
/// controllers spread over them, driven by the real kubectl.
@Suite(.serialized) struct MultiNodeTests {
    static let busybox = "docker.io/library/busybox:1.35"

    /// How a pod is put on its node.
    enum Pin {
        /// `spec.nodeName`: bound without the scheduler.
        case nodeName
        /// `nodeSelector: {kubernetes.io/hostname: …}`: through the scheduler.
        case hostnameSelector
    }

    /// A one-container busybox pod on `node` running `script` under `sh -c`, with the node's
    /// name in `$NODE_NAME`. The script must need no quotes or backslashes.
    static func pod(_ name: String, on node: String, pin: Pin = .nodeName, restartPolicy: String = "Always",
                    port: Int? = nil, script: String) -> String {
        precondition(!script.contains("\"") && !script.contains("\\"), "the script goes in a YAML double-quoted string")
        let placement = switch pin {
        case .nodeName: "nodeName: \(node)"
        case .hostnameSelector: "nodeSelector: {kubernetes.io/hostname: \(node)}"
        }
        return """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), labels: {app: \(name)}}
        spec:
          \(placement)
          restartPolicy: \(restartPolicy)
          terminationGracePeriodSeconds: 1
          containers:
          - name: c
            image: \(busybox)
            env: [{name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]
            command: ["sh", "-c", "\(script)"]
            \(port.map { "ports: [{containerPort: \($0)}]" } ?? "")
        """
    }

    /// Whether IPv4 `address` is inside `cidr` (`a.b.c.d/n`).
    static func contains(_ cidr: String, _ address: String) -> Bool {
        func value(_ s: Substring) -> UInt32? {
            let parts = s.split(separator: ".").compactMap { UInt32($0) }
            guard parts.count == 4, parts.allSatisfy({ $0 < 256 }) else { return nil }
            return parts.reduce(0) { $0 << 8 | $1 }
        }
        let halves = cidr.split(separator: "/")
        guard halves.count == 2, let base = value(halves[0]), let bits = UInt32(halves[1]), bits <= 32,
              let a = value(Substring(address)) else { return false }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
        return base & mask == a & mask
    }

    /// The pods with `selector` that are not being deleted, as JSON.
    static func livePods(_ c: MultiNodeCluster, _ selector: String) throws -> [[String: Any]] {
        try c.json("pods", "-l", selector).items.filter { $0[path: "metadata", "deletionTimestamp"] == nil }
    }

    static func isReady(_ pod: [String: Any]) -> Bool {
        let conditions = pod[path: "status", "conditions"] as? [[String: Any]] ?? []
        return pod.string("status", "phase") == "Running"
            && conditions.contains { $0.string("type") == "Ready" && $0.string("status") == "True" }
    }

    /// After `shutdown()`: no process, mount, namespace, veth, bridge, cgroup or file of the cluster is left.
    static func expectNothingLeft(_ c: MultiNodeCluster) throws {
        #expect(!c.server.process.isRunning)
        let namespaces = try SystemCommand.must(SystemCommand.ip, ["netns", "list"])
        let links = try SystemCommand.must(SystemCommand.ip, ["-o", "link", "show"])
        for host in c.hosts {
            #expect(HostProcesses.pids(of: host).isEmpty, "processes of \(host.nodeName) left")
            #expect(!namespaces.contains(host.netns), "\(namespaces)")
            #expect(!links.contains(host.hostVeth), "\(links)")
            #expect(!HostProcesses.cgroupExists(host.cgroupRoot), "cgroup \(host.cgroupRoot) left")
        }
        #expect(!links.contains(c.bridge.name), "\(links)")
        #expect(MountTable.mountPoints(under: c.directory).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: c.directory))
    }

    // MARK: joining

    @Test func threeAgentsJoinWithSignedCertificatesAndDistinctPodCIDRs() throws {
        let c = try MultiNodeCluster(nodes: 3)
        defer { c.shutdown() }
        #expect(Set(try c.json("nodes").names) == Set(c.nodeNames))
        let table = try c.k("get", "nodes")
        for name in c.nodeNames {
            let line = table.split(separator: "\n").first { $0.hasPrefix(name + " ") } ?? ""
            #expect(line.contains(" Ready "), "\(table)")
        }

        // Each agent asked for its client certificate with the bootstrap token; each was approved and signed.
        let clientCSRs = try c.json("csr").items.filter { $0.string("spec", "signerName") == "kubernetes.io/kube-apiserver-client-kubelet" }
        #expect(clientCSRs.count == 3)
        for csr in clientCSRs {
            #expect(csr.string("spec", "username")?.hasPrefix("system:bootstrap:") == true, "\(csr)")
            let types = (csr[path: "status", "conditions"] as? [[String: Any]] ?? []).compactMap { $0.string("type") }
            #expect(types.contains("Approved"), "\(csr)")
            #expect(!(csr.string("status", "certificate") ?? "").isEmpty)
        }
        let csrTable = try c.k("get", "csr")
        let issued = csrTable.split(separator: "\n").filter { $0.contains("kube-apiserver-client-kubelet") && $0.contains("Approved,Issued") }
        #expect(issued.count == 3, "\(csrTable)")
        for host in c.hosts {
            let cert = host.dataDir + "/tls/kubelet-client.crt"
            let subject = try SystemCommand.must("/usr/bin/openssl", ["x509", "-in", cert, "-noout", "-subject"])
            #expect(subject.contains("system:node:\(host.nodeName)"), "\(subject)")
            let verify = try SystemCommand.run("/usr/bin/openssl", ["verify", "-CAfile", c.server.dataDir + "/tls/ca.crt", cert])
            #expect(verify.status == 0, "\(verify)")
        }

        // Each node has its own /24 of 10.42.0.0/16 and the InternalIP of its host.
        var cidrs: [String] = []
        for host in c.hosts {
            let node = try c.json("node", host.nodeName)
            let cidr = node.string("spec", "podCIDR") ?? ""
            #expect(cidr.hasSuffix("/24") && Self.contains("10.42.0.0/16", String(cidr.prefix { $0 != "/" })), "\(host.nodeName): \(cidr)")
            #expect(node[path: "spec", "podCIDRs"] as? [String] == [cidr])
            let addresses = node[path: "status", "addresses"] as? [[String: Any]] ?? []
            #expect(addresses.contains { $0.string("type") == "InternalIP" && $0.string("address") == host.ip }, "\(addresses)")
            cidrs.append(cidr)
        }
        #expect(Set(cidrs).count == 3, "\(cidrs)")
    }

    @Test func anAgentWithAWrongTokenIsRefused() throws {
        let c = try MultiNodeCluster(nodes: 1, agents: 0)
        defer { c.shutdown() }
        let host = c.hosts[0]
        let real = try String(contentsOfFile: c.tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let separator = real.range(of: "::"), let dot = real[separator.upperBound...].firstIndex(of: ".") else {
            Issue.record("unexpected node token \(real)")
            return
        }
        let credential = real[separator.upperBound...]
        let secret = real[real.index(after: dot)...]
        let wrongSecret = real[..<real.index(after: dot)] + (secret == "x0x0x0x0x0x0x0x0" ? "y0y0y0y0y0y0y0y0" : "x0x0x0x0x0x0x0x0")
        let wrongCA = "K10" + String(repeating: "0", count: 64) + "::" + credential
        // The server refuses an unknown bootstrap token; the agent refuses a server whose CA is not the token's.
        for token in [String(wrongSecret), wrongCA] {
            let timeout: TimeInterval = 90
            let started = Date()
            let r = try host.runAgent(server: c.agentServerURL, token: .text(token), timeout: timeout)
            #expect(Date().timeIntervalSince(started) < timeout - 1, "the agent did not exit by itself: \(r)")
            #expect(r.status != 0, "\(r)")
            #expect((r.out + r.err).lowercased().contains("token"), "\(r)")
        }
        #expect(try c.k("get", "nodes", "-o", "name").isEmpty)
        #expect(try c.k("get", "csr", "-o", "name").isEmpty)

        // The same host with the right token registers its node: the host was not the problem.
        try host.startAgent(server: c.agentServerURL, token: .file(c.tokenFile))
        try c.eventually("node \(host.nodeName) registered", timeout: 120) {
            try c.k("get", "nodes", "-o", "name").split(separator: "\n").contains("node/\(host.nodeName)")
        }
    }

    // MARK: pod network

    @Test func podsOnTwoNodesReachEachOtherByPodIP() throws {
        let c = try MultiNodeCluster(nodes: 2)
        defer { c.shutdown() }
        let (a, b) = (c.hosts[0], c.hosts[1])
        let serve = "mkdir -p /www; echo hello-from-$NODE_NAME > /www/index.html; exec httpd -f -p 8080 -h /www"
        _ = try c.k("apply", "-f", "-", stdin: Self.pod("echo-a", on: a.nodeName, pin: .nodeName, port: 8080, script: serve))
        _ = try c.k("apply", "-f", "-", stdin: Self.pod("echo-b", on: b.nodeName, pin: .hostnameSelector, port: 8080, script: serve))
        for pod in ["echo-a", "echo-b"] { _ = try c.k("wait", "--for=condition=Ready", "pod/\(pod)", "--timeout=120s") }
        #expect(try c.nodeOf("echo-a") == a.nodeName)
        #expect(try c.nodeOf("echo-b") == b.nodeName)
        let ipA = try c.k("get", "pod", "echo-a", "-o", "jsonpath={.status.podIP}")
        let ipB = try c.k("get", "pod", "echo-b", "-o", "jsonpath={.status.podIP}")
        // Each pod's address is from its own node's pod CIDR.
        for (ip, host) in [(ipA, a), (ipB, b)] {
            let cidr = try c.k("get", "node", host.nodeName, "-o", "jsonpath={.spec.podCIDR}")
            #expect(Self.contains(cidr, ip), "\(ip) not in \(host.nodeName)'s \(cidr)")
        }

        // A client on each node fetches the page of the pod on the other node; it succeeds only if it got it.
        func dial(_ ip: String, expect page: String) -> String {
            "for i in $(seq 1 60); do out=$(timeout 3 wget -q -O - http://\(ip):8080/) && [ $out = \(page) ] && echo got-$out && exit 0; sleep 1; done; exit 1"
        }
        _ = try c.k("apply", "-f", "-", stdin: Self.pod("dial-a", on: a.nodeName, restartPolicy: "Never", script: dial(ipB, expect: "hello-from-\(b.nodeName)")))
        _ = try c.k("apply", "-f", "-", stdin: Self.pod("dial-b", on: b.nodeName, pin: .hostnameSelector, restartPolicy: "Never",
                                                        script: dial(ipA, expect: "hello-from-\(a.nodeName)")))
        for pod in ["dial-a", "dial-b"] {
            var phase = ""
            try c.eventually("\(pod) finished", timeout: 150) {
                phase = try c.k("get", "pod", pod, "-o", "jsonpath={.status.phase}")
                return phase == "Succeeded" || phase == "Failed"
            }
            #expect(phase == "Succeeded", "\(pod) could not reach the pod on the other node\n\(c.agentLogs())")
        }
        #expect(try c.nodeOf("dial-a") == a.nodeName)
        #expect(try c.nodeOf("dial-b") == b.nodeName)
    }

    // MARK: scheduling over nodes

    @Test func requiredPodAntiAffinitySpreadsADeploymentOverTheNodes() throws {
        let c = try MultiNodeCluster(nodes: 3)
        defer { c.shutdown() }
        _ = try c.k("apply", "-f", "-", stdin: """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: spread}
        spec:
          replicas: 3
          selector: {matchLabels: {app: spread}}
          template:
            metadata: {labels: {app: spread}}
            spec:
              terminationGracePeriodSeconds: 1
              affinity:
                podAntiAffinity:
                  requiredDuringSchedulingIgnoredDuringExecution:
                  - labelSelector: {matchLabels: {app: spread}}
                    topologyKey: kubernetes.io/hostname
              containers: [{name: c, image: \(Self.busybox), command: [sleep, "3600"]}]
        """)
        let status = try c.kubectl(["rollout", "status", "deployment/spread", "--timeout=180s"], timeout: 200)
        #expect(status.status == 0, "\(status)\n\(c.agentLogs())")
        let pods = try Self.livePods(c, "app=spread")
        let nodes = pods.compactMap { $0.string("spec", "nodeName") }
        #expect(nodes.sorted() == c.nodeNames.sorted(), "one replica per node: \(nodes)")
        #expect(pods.allSatisfy(Self.isReady))

        // A fourth replica has nowhere to go.
        _ = try c.k("scale", "deployment", "spread", "--replicas=4")
        var message = ""
        try c.eventually("an unschedulable fourth replica", timeout: 60) {
            let pending = try Self.livePods(c, "app=spread").filter { ($0.string("spec", "nodeName") ?? "").isEmpty }
            let scheduled = pending.compactMap { ($0[path: "status", "conditions"] as? [[String: Any]])?.first { $0.string("type") == "PodScheduled" } }
            guard let condition = scheduled.first, condition.string("reason") == "Unschedulable" else { return false }
            message = condition.string("message") ?? ""
            return true
        }
        #expect(message.contains("anti-affinity"), "\(message)")
        #expect(try Self.livePods(c, "app=spread").compactMap { $0.string("spec", "nodeName") }.filter { !$0.isEmpty }.count == 3)
    }

    @Test func daemonSetRunsOnePodOnEachNode() throws {
        let c = try MultiNodeCluster(nodes: 3)
        defer { c.shutdown() }
        _ = try c.k("apply", "-f", "-", stdin: """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: every}
        spec:
          selector: {matchLabels: {app: every}}
          template:
            metadata: {labels: {app: every}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: \(Self.busybox), command: [sleep, "3600"]}]
        """)
        try c.eventually("the DaemonSet ready on every node", timeout: 180) {
            let ds = try c.json("daemonset", "every")
            return ds[path: "status", "desiredNumberScheduled"] as? Int == 3 && ds[path: "status", "numberReady"] as? Int == 3
        }
        let pods = try Self.livePods(c, "app=every")
        #expect(pods.compactMap { $0.string("spec", "nodeName") }.sorted() == c.nodeNames.sorted())
        #expect(pods.allSatisfy(Self.isReady))
        // NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE
        let table = try c.k("get", "daemonset", "every")
        let row = table.split(separator: "\n").first { $0.hasPrefix("every ") }?.split(separator: " ").map(String.init) ?? []
        #expect(table.hasPrefix("NAME") && table.contains("DESIRED") && Array(row.dropFirst().prefix(5)) == ["3", "3", "3", "3", "3"], "\(table)")

        // The harness takes a cluster with pods on every node down without a trace.
        c.shutdown()
        try Self.expectNothingLeft(c)
    }

    // MARK: streams through the API server to each node's agent

    @Test func logsExecAndPortForwardReachAPodOnEveryNode() throws {
        let c = try MultiNodeCluster(nodes: 3)
        defer { c.shutdown() }
        for (i, host) in c.hosts.enumerated() {
            _ = try c.k("apply", "-f", "-", stdin: Self.pod("web-\(i)", on: host.nodeName, port: 80,
                                                            script: "mkdir -p /www; echo page-of-$NODE_NAME > /www/index.html; echo started-on-$NODE_NAME; exec httpd -f -p 80 -h /www"))
        }
        for i in c.hosts.indices { _ = try c.k("wait", "--for=condition=Ready", "pod/web-\(i)", "--timeout=120s") }
        for (i, host) in c.hosts.enumerated() {
            let pod = "web-\(i)"
            #expect(try c.nodeOf(pod) == host.nodeName)
            try c.eventually("logs of \(pod)") { try c.k("logs", pod).contains("started-on-\(host.nodeName)") }

            let exec = try c.kubectl(["exec", pod, "--", "sh", "-c", "cat /www/index.html; echo oops >&2; exit 7"])
            #expect(exec.status == 7 && exec.out == "page-of-\(host.nodeName)\n" && exec.err.contains("oops"), "\(exec)")
            let echoed = try c.kubectl(["exec", "-i", pod, "--", "cat"], stdin: "via-\(host.nodeName)\n")
            #expect(echoed.status == 0 && echoed.out == "via-\(host.nodeName)\n", "\(echoed)")

            let forward = try BackgroundProcess("/usr/bin/kubectl", ["port-forward", "pod/\(pod)", ":80", "--address", "127.0.0.1"],
                                                env: ["KUBECONFIG": c.server.kubeconfig])
            defer { forward.stop() }
            try forward.waitForOutput("the forwarding port of \(pod)") { $0.contains("Forwarding from 127.0.0.1:") }
            let line = forward.output.split(separator: "\n").first { $0.contains("Forwarding from 127.0.0.1:") } ?? ""
            let port = line.split(separator: ":").last.flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0
            #expect(port > 0, "\(forward.output)")
            let page = try SystemCommand.run("/usr/bin/curl", ["-sS", "-m", "20", "http://127.0.0.1:\(port)/index.html"])
            #expect(page.status == 0 && page.out == "page-of-\(host.nodeName)\n", "\(page) \(forward.output)")
        }

        // A followed log whose client goes ends on the API server and on the pod's node, though
        // the container says nothing more (both kept reading until it did).
        let host = c.hosts[1], api = try RawAPI(c.server)
        let logs = #"{resource="pods",subresource="log",verb="GET"}"#
        let logFile = "default_web-1_"
        let curl = try BackgroundProcess("/usr/bin/curl", ["-sN", "--http1.1"] + api.tls
                                         + [api.server + "/api/v1/namespaces/default/pods/web-1/log?follow=true"], env: [:])
        defer { curl.stop() }
        try curl.waitForOutput("the followed log") { $0.contains("started-on-\(host.nodeName)") }
        #expect(try APIConnectionTests.longRunning(api, logs) == 1)
        #expect(host.agentOpenFiles(containing: logFile) > 0, "the agent does not read the log")
        kill(curl.process.processIdentifier, SIGKILL)
        _ = try curl.waitForExit(timeout: 10)
        try c.eventually("the log stream ends on the API server", timeout: 30) { try APIConnectionTests.longRunning(api, logs) == 0 }
        try c.eventually("the agent closes the log", timeout: 30) { host.agentOpenFiles(containing: logFile) == 0 }
    }

    // MARK: node failure

    @Test func aDeadNodeGoesUnknownAndItsPodsMoveToTheOthers() throws {
        let c = try MultiNodeCluster(nodes: 3)
        defer { c.shutdown() }
        _ = try c.k("apply", "-f", "-", stdin: """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: survivor}
        spec:
          replicas: 3
          selector: {matchLabels: {app: survivor}}
          template:
            metadata: {labels: {app: survivor}}
            spec:
              terminationGracePeriodSeconds: 1
              tolerations:
              - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
              - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
              containers: [{name: c, image: \(Self.busybox), command: [sleep, "3600"]}]
        """)
        let status = try c.kubectl(["rollout", "status", "deployment/survivor", "--timeout=180s"], timeout: 200)
        #expect(status.status == 0, "\(status)\n\(c.agentLogs())")
        let before = try Self.livePods(c, "app=survivor")
        guard let victim = before.first?.string("spec", "nodeName"), let index = c.hosts.firstIndex(where: { $0.nodeName == victim }) else {
            Issue.record("no running replica: \(before)")
            return
        }
        let doomed = before.filter { $0.string("spec", "nodeName") == victim }.compactMap { $0.string("metadata", "name") }

        // The machine dies: agent and containers, no goodbye.
        c.killHost(index)
        #expect(HostProcesses.pids(of: c.hosts[index]).isEmpty)
        try c.eventually("\(victim) Unknown", timeout: MultiNodeCluster.nodeMonitorGracePeriod + 60) {
            try c.readyStatuses()[victim] == "Unknown"
        }
        let statuses = try c.readyStatuses()
        #expect(c.nodeNames.filter { $0 != victim }.allSatisfy { statuses[$0] == "True" }, "\(statuses)")
        try c.eventually("\(victim) tainted unreachable", timeout: 30) {
            try c.k("get", "node", victim, "-o", "jsonpath={.spec.taints[*].key}").contains("node.kubernetes.io/unreachable")
        }

        // Past their 5 s of toleration, its pods are evicted and replaced on the other nodes.
        try c.eventually("three replicas running on the live nodes", timeout: 120) {
            let live = try Self.livePods(c, "app=survivor")
            return live.count == 3 && live.allSatisfy { $0.string("spec", "nodeName") != victim && Self.isReady($0) }
        }
        for pod in doomed {
            let r = try c.kubectl(["get", "pod", pod, "-o", "jsonpath={.metadata.deletionTimestamp}"])
            #expect(r.status != 0 || !r.out.isEmpty, "\(pod) on the dead node was not evicted")
        }
        #expect(try c.k("get", "deployment", "survivor", "-o", "jsonpath={.status.availableReplicas}") == "3")

        // The harness takes a cluster with a dead node (whose pods never finish terminating) down without a trace.
        c.shutdown()
        try Self.expectNothingLeft(c)
    }

    /// A pod deleted while its node's agent was away is stopped when the agent returns; a
    /// deleted node's pods are removed (pod GC).
    @Test func aReturningAgentStopsPodsDeletedMeanwhileAndADeletedNodeLosesItsPods() throws {
        let c = try MultiNodeCluster(nodes: 2)
        defer { c.shutdown() }
        let (a, b) = (c.hosts[0], c.hosts[1])
        _ = try c.k("apply", "-f", "-", stdin: Self.pod("gone", on: b.nodeName, script: "sleep 3600"))
        _ = try c.k("apply", "-f", "-", stdin: Self.pod("orphan", on: a.nodeName, script: "sleep 3600"))
        for pod in ["gone", "orphan"] { _ = try c.k("wait", "--for=condition=Ready", "pod/\(pod)", "--timeout=120s") }
        func containers(_ host: TestHost) throws -> [String] {
            try OrcaServerProcess.run("/usr/sbin/runc", ["--root", host.runcRoot, "list", "-q"]).out
                .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        }
        #expect(try !containers(b).isEmpty)

        // The agent dies; its container goes on. The pod is deleted meanwhile: it stays Terminating.
        c.killAgent(1)
        _ = try c.k("delete", "pod", "gone", "--wait=false")
        Thread.sleep(forTimeInterval: 3)
        #expect(try !c.k("get", "pod", "gone", "-o", "jsonpath={.metadata.deletionTimestamp}").isEmpty)
        #expect(try !containers(b).isEmpty, "the container of a node whose agent is away keeps running")

        // Back, the agent stops it and the pod goes.
        try c.restartAgent(1)
        try c.eventually("the deleted pod is stopped and gone", timeout: 90) {
            try c.kubectl(["get", "pod", "gone"]).status != 0 && containers(b).isEmpty
        }

        // A dead machine is decommissioned with kubectl delete node: its pods are removed by pod
        // GC (after its 40 s quarantine).
        c.killHost(0)
        _ = try c.k("delete", "node", a.nodeName)
        try c.eventually("the deleted node's pod is removed", timeout: 120) {
            try c.kubectl(["get", "pod", "orphan"]).status != 0
        }
    }

    // MARK: agent restart

    /// The server goes away for a while: the agent keeps its pods running, and when the server is
    /// back it resyncs without restarting any container.
    @Test func podsKeepRunningWhileTheServerIsUnreachable() throws {
        let c = try MultiNodeCluster(nodes: 2)
        defer { c.shutdown() }
        let host = c.hosts[1]
        _ = try c.k("apply", "-f", "-", stdin: Self.pod("keeper", on: host.nodeName, script: "exec sleep 3600"))
        _ = try c.k("wait", "--for=condition=Ready", "pod/keeper", "--timeout=120s")
        let fields = ["containerStatuses[0].containerID", "containerStatuses[0].restartCount", "containerStatuses[0].state.running.startedAt"]
        func snapshot() throws -> [String] { try fields.map { try c.k("get", "pod", "keeper", "-o", "jsonpath={.status.\($0)}") } }
        let before = try snapshot()
        let id = String(before[0].split(separator: "/").last ?? "")
        func running() throws -> Bool {
            try SystemCommand.run(SystemCommand.runc, ["--root", host.runcRoot, "state", id]).out.contains("\"running\"")
        }
        #expect(try running())

        // 25 s without a server (less than the 40 s grace period, more than two lease renewals).
        c.pauseServer(for: 25)
        #expect(try running(), "the container stopped while the server was unreachable")
        // Back: the node heartbeats again and nothing was restarted.
        try c.waitForReadyNodes([host])
        Thread.sleep(forTimeInterval: 12)
        #expect(try snapshot() == before)
        #expect(try running())
        #expect(try c.k("get", "pod", "keeper", "-o", "jsonpath={.status.containerStatuses[0].ready}") == "true")
    }

    @Test func aRestartedAgentAdoptsItsRunningContainers() throws {
        let c = try MultiNodeCluster(nodes: 2)
        defer { c.shutdown() }
        let host = c.hosts[1]
        _ = try c.k("apply", "-f", "-", stdin: Self.pod("steady", on: host.nodeName, script: "echo up; exec sleep 3600"))
        _ = try c.k("wait", "--for=condition=Ready", "pod/steady", "--timeout=120s")
        let fields = ["containerStatuses[0].containerID", "containerStatuses[0].restartCount", "podIP", "startTime",
                      "containerStatuses[0].state.running.startedAt"]
        func snapshot() throws -> [String] { try fields.map { try c.k("get", "pod", "steady", "-o", "jsonpath={.status.\($0)}") } }
        let before = try snapshot()
        #expect(before[1] == "0")
        let id = String(before[0].split(separator: "/").last ?? "")
        func containerPID() throws -> Int? {
            let r = try SystemCommand.run(SystemCommand.runc, ["--root", host.runcRoot, "state", id])
            guard r.status == 0, let state = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any],
                  state["status"] as? String == "running" else { return nil }
            return state["pid"] as? Int
        }
        let pid = try containerPID()
        #expect(pid != nil, "container \(id) is not running under \(host.runcRoot)")

        // kill -9 of the agent alone: its container keeps running.
        c.killAgent(1)
        #expect(try containerPID() == pid)
        try c.restartAgent(1)
        try c.waitForReadyNodes([host])
        // The new agent runs pods on the node…
        _ = try c.k("apply", "-f", "-", stdin: Self.pod("fresh", on: host.nodeName, script: "exec sleep 3600"))
        _ = try c.k("wait", "--for=condition=Ready", "pod/fresh", "--timeout=120s")
        // …and has taken the running one back as it was: same container, same process, no restart
        // (watched for longer than the agent's 10 s resync of steady pods).
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let now = try snapshot()
            guard now == before else {
                Issue.record("the adopted container changed: \(before) -> \(now)")
                break
            }
            Thread.sleep(forTimeInterval: 1)
        }
        #expect(try containerPID() == pid)
        #expect(try c.k("get", "pod", "steady", "-o", "jsonpath={.status.containerStatuses[0].ready}") == "true")
        // Still managed: deleting it stops its container.
        _ = try c.k("delete", "pod", "steady", "--grace-period=1", "--wait=true", "--timeout=60s")
        try c.eventually("the container of steady gone") { try containerPID() == nil }
    }
}
