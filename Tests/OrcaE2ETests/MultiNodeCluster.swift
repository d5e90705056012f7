import Foundation
import OrcaCore
import Testing

/// Several nodes on this machine: one `orca server --disable-agent` in the root network
/// namespace, listening on every address, and `orca agent`s on `TestHost`s (network
/// namespaces on a private `TestBridge`) that join it over HTTPS with its node token.
///
/// `init` waits until the started agents' nodes are Ready with a pod CIDR; `shutdown()`
/// removes everything (pods first, then agents, server, processes, mounts, namespaces, bridge,
/// cgroups, files), whatever a failed test left, and never fails. Names carry a random tag so
/// a leftover of an earlier run cannot break the next one.
///
/// `@unchecked Sendable`: set up in `init`, then driven by one test at a time.
final class MultiNodeCluster: @unchecked Sendable {
    let tag: String
    /// Everything of the cluster's lives under this directory (server data, hosts' directories).
    let directory: String
    let bridge: TestBridge
    private(set) var hosts: [TestHost] = []
    private var serverProcess: OrcaServerProcess?
    /// The server's URL as the agents reach it (an address its serving certificate names).
    private(set) var agentServerURL = ""

    var server: OrcaServerProcess {
        guard let serverProcess else { preconditionFailure("the cluster's server did not start") }
        return serverProcess
    }
    var tokenFile: String { server.dataDir + "/node-token" }
    var nodeNames: [String] { hosts.map(\.nodeName) }

    /// How long a node may go without a heartbeat before it is Unknown, when the server takes
    /// `--node-monitor-grace-period` (the kubelet renews its lease every 10 s: more than that).
    static let nodeMonitorGracePeriodSeconds = 20

    /// Starts a server and `nodes` test hosts, with agents on the first `agents` of them
    /// (all by default), and waits until those nodes are Ready with a pod CIDR.
    init(nodes: Int, agents: Int? = nil, serverArguments: [String] = [], agentArguments: [String] = []) throws {
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        let directory = NSTemporaryDirectory() + "orca-e2e-\(tag)"
        self.tag = tag
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do {
            bridge = try TestBridge(tag: tag)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        do {
            serverProcess = try OrcaServerProcess(
                extraArguments: ["--disable-agent", "--bind-address", "0.0.0.0"] + Self.supportedServerArguments(bridge: bridge) + serverArguments,
                dataDir: directory + "/server")
            for i in 0..<nodes { hosts.append(try TestHost(tag: tag, index: i, bridge: bridge, clusterDirectory: directory)) }
            agentServerURL = try Self.agentURL(server: server, bridge: bridge, from: hosts.first)
            for host in hosts.prefix(agents ?? nodes) { try host.startAgent(server: agentServerURL, token: .file(tokenFile), extra: agentArguments) }
            try waitForReadyNodes(Array(hosts.prefix(agents ?? nodes)))
        } catch {
            shutdown()
            throw error
        }
    }

    // MARK: kubectl

    /// Runs kubectl against the server; returns exit status and output.
    @discardableResult
    func kubectl(_ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) throws -> (status: Int32, out: String, err: String) {
        try server.kubectl(args, stdin: stdin, timeout: timeout)
    }

    /// kubectl that must succeed; returns stdout.
    @discardableResult
    func k(_ args: String..., stdin: String? = nil) throws -> String {
        let r = try server.kubectl(args, stdin: stdin)
        guard r.status == 0 else { throw E2EError("kubectl \(args.joined(separator: " ")) failed (\(r.status)): \(r.err)\(r.out)") }
        return r.out
    }

    /// `kubectl get … -o json`, parsed.
    func json(_ args: String...) throws -> [String: Any] {
        let r = try server.kubectl(["get"] + args + ["-o", "json"])
        guard r.status == 0 else { throw E2EError("kubectl get \(args.joined(separator: " ")) failed (\(r.status)): \(r.err)") }
        guard let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any] else {
            throw E2EError("kubectl get \(args.joined(separator: " ")): not a JSON object")
        }
        return object
    }

    /// Polls `condition` until it holds (a liveness deadline, not a timing assertion).
    func eventually(_ what: String, timeout: TimeInterval = 60, _ condition: () throws -> Bool) throws {
        do { try server.eventually(what, timeout: timeout, condition) } catch {
            throw E2EError("\(error)\n\(agentLogs())")
        }
    }

    // MARK: nodes

    /// Each node the server has: its Ready condition's status (`True`, `False`, `Unknown`) and pod CIDR.
    func nodeStates() throws -> [String: (ready: String, podCIDR: String)] {
        let out = try k("get", "nodes", "-o",
                        #"jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}={.spec.podCIDR}{"\n"}{end}"#)
        var states: [String: (ready: String, podCIDR: String)] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 3 { states[parts[0]] = (parts[1], parts[2]) }
        }
        return states
    }

    /// The Ready condition's status of each node (`True`, `False`, `Unknown`).
    func readyStatuses() throws -> [String: String] { try nodeStates().mapValues(\.ready) }

    /// Waits until the nodes of `hosts` are Ready and have their pod CIDR (an agent runs pods
    /// only once it has one); fails early when one of their agents exits.
    func waitForReadyNodes(_ hosts: [TestHost], timeout: TimeInterval = 180) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var states: [String: (ready: String, podCIDR: String)] = [:]
        while true {
            if let dead = hosts.first(where: { !$0.agentIsRunning }) {
                throw E2EError("the agent of \(dead.nodeName) exited:\n\(dead.agentLogTail())")
            }
            states = (try? nodeStates()) ?? states
            if hosts.allSatisfy({ states[$0.nodeName]?.ready == "True" && states[$0.nodeName]?.podCIDR.isEmpty == false }) { return }
            if Date() > deadline {
                throw E2EError("nodes \(hosts.map(\.nodeName)) not Ready with a pod CIDR within \(Int(timeout)) s: \(states)\n\(agentLogs())")
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
    }

    /// The node a pod is bound to.
    func nodeOf(_ pod: String) throws -> String {
        try k("get", "pod", pod, "-o", "jsonpath={.spec.nodeName}")
    }

    // MARK: failures and restarts

    /// The machine of host `index` dies: `kill -9` of its agent and of all its processes
    /// (conmon, runc, containers). Its namespace and files stay, as a powered-off disk would.
    func killHost(_ index: Int) {
        hosts[index].killAll()
    }

    /// `kill -9` of the agent of host `index` only: its containers keep running.
    func killAgent(_ index: Int) {
        hosts[index].kill9Agent()
    }

    /// Starts the agent of host `index` again, on the same directories.
    func restartAgent(_ index: Int, extra: [String] = []) throws {
        try hosts[index].startAgent(server: agentServerURL, token: .file(tokenFile), extra: extra)
    }

    /// Freezes the server (SIGSTOP) for `seconds`, then lets it go on (SIGCONT): to agents it is
    /// unreachable meanwhile, and nothing of its state is lost.
    func pauseServer(for seconds: TimeInterval) {
        guard let pid = serverProcess?.process.processIdentifier, pid > 0 else { return }
        kill(pid, SIGSTOP)
        Thread.sleep(forTimeInterval: seconds)
        kill(pid, SIGCONT)
    }

    /// The last lines of every agent's log, for failure messages.
    func agentLogs(_ lines: Int = 20) -> String {
        hosts.map { "---- agent of \($0.nodeName) (\($0.agentIsRunning ? "running" : "not running")):\n\($0.agentLogTail(lines))" }
            .joined(separator: "\n")
    }

    // MARK: shutdown

    /// Removes everything the cluster made. Never fails; safe to call twice.
    func shutdown() {
        if let serverProcess, serverProcess.process.isRunning {
            deleteWorkloadsAndPods(serverProcess)
        }
        // Agents stop together (SIGTERM, SIGKILL after 10 s): running containers stay, for below.
        for host in hosts where host.agentIsRunning { host.agent?.terminate() }
        for host in hosts { host.waitForAgentExit(timeout: 10) }
        serverProcess?.stop(removeData: false)
        for host in hosts { host.tearDown() }
        bridge.remove()
        for point in MountTable.mountPoints(under: directory) { umount2(point, Int32(MNT_DETACH)) }
        // Never recurse into a file system still mounted below.
        if MountTable.mountPoints(under: directory).isEmpty { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Deletes workloads (orphaning their pods, so no controller replaces them) and pods, waits
    /// a while for running agents to stop their containers, then force-deletes what is left
    /// (pods of dead nodes never finish terminating).
    private func deleteWorkloadsAndPods(_ s: OrcaServerProcess) {
        _ = try? s.kubectl(["delete", "deployments,replicasets,replicationcontrollers,statefulsets,daemonsets,jobs,cronjobs",
                            "--all", "-A", "--cascade=orphan", "--wait=true", "--timeout=60s"], timeout: 70)
        _ = try? s.kubectl(["delete", "pods", "--all", "-A", "--grace-period=1", "--wait=false"])
        let live = hosts.filter(\.agentIsRunning)
        try? s.eventually("the running agents stop their pods", timeout: 45) {
            let left = try s.kubectl(["get", "pods", "-A", "-o", "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}"]).out
                .split(separator: "\n").map(String.init)
            let onLiveNodes = left.filter { node in live.contains { $0.nodeName == node } }
            let containers = try live.map {
                try OrcaServerProcess.run(SystemCommand.runc, ["--root", $0.runcRoot, "list", "-q"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return onLiveNodes.isEmpty && containers.allSatisfy(\.isEmpty)
        }
        _ = try? s.kubectl(["delete", "pods", "--all", "-A", "--grace-period=0", "--force", "--wait=false"])
    }

    // MARK: server flags

    /// `orca server --help`, read once.
    static let serverHelp: String = (try? OrcaServerProcess.run(OrcaServerProcess.binary, ["server", "--help"]).out) ?? ""

    /// Whether `orca server` takes `flag`, and its default value as the help shows it ("" when none).
    static func serverFlagDefault(_ flag: String) -> String? {
        let lines = serverHelp.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(flag + " ") || $0.trimmingCharacters(in: .whitespaces) == flag }) else {
            return nil
        }
        var text = lines[start]
        for line in lines[(start + 1)...] {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("-") { break }
            text += " " + line.trimmingCharacters(in: .whitespaces)
        }
        guard let open = text.range(of: "(default: ", options: .backwards),
              let close = text[open.upperBound...].firstIndex(of: ")") else { return "" }
        return String(text[open.upperBound..<close])
    }

    /// Server arguments for features the server may or may not have yet: its serving
    /// certificate names the bridge address (`--tls-san`), and nodes go Unknown sooner
    /// (`--node-monitor-grace-period`, given with or without a unit as its default is).
    static func supportedServerArguments(bridge: TestBridge) -> [String] {
        var args: [String] = []
        if serverFlagDefault("--tls-san") != nil { args += ["--tls-san", bridge.gateway] }
        if let d = serverFlagDefault("--node-monitor-grace-period") {
            let seconds = nodeMonitorGracePeriodSeconds
            // A plain number (seconds) when the default is one, a Go duration ("40s") otherwise.
            args += ["--node-monitor-grace-period", Double(d) != nil ? "\(seconds)" : "\(seconds)s"]
        }
        return args
    }

    /// The node monitor grace period the server runs with: ours if it takes the flag, else Kubernetes's 40 s.
    static var nodeMonitorGracePeriod: TimeInterval {
        serverFlagDefault("--node-monitor-grace-period") != nil ? TimeInterval(nodeMonitorGracePeriodSeconds) : 40
    }

    /// `https://<address>:<port>` for the agents: the bridge address if the server's certificate
    /// names it, else another of the machine's addresses it names (reached through the bridge,
    /// as the root namespace owns it). Checked with curl verifying the certificate, from `host`.
    static func agentURL(server: OrcaServerProcess, bridge: TestBridge, from host: TestHost?) throws -> String {
        let local = try server.k("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}")
        guard let colon = local.lastIndex(of: ":"), let port = Int(local[local.index(after: colon)...]) else {
            throw E2EError("no port in the kubeconfig's server \(local)")
        }
        let san = (try? SystemCommand.run("/usr/bin/openssl", ["x509", "-in", server.dataDir + "/tls/server.crt", "-noout", "-ext", "subjectAltName"]).out) ?? ""
        let named = san.components(separatedBy: "IP Address:").dropFirst()
            .map { $0.prefix { $0.isNumber || $0 == "." } }.map(String.init)
            .filter { !$0.isEmpty && !$0.hasPrefix("127.") }
        for address in [bridge.gateway] + named {
            let url = "https://\(address):\(port)"
            let curl = ["/usr/bin/curl", "-sS", "-o", "/dev/null", "-m", "10", "--cacert", server.dataDir + "/tls/ca.crt", url + "/cacerts"]
            let r = try host.map { try SystemCommand.run(SystemCommand.nsenter, ["--net=\($0.netnsPath)"] + curl) }
                ?? SystemCommand.run(curl[0], Array(curl.dropFirst()))
            if r.status == 0 { return url }
        }
        throw E2EError("no address of this machine that the server's certificate names (\(named)) is reachable from the test hosts")
    }
}
