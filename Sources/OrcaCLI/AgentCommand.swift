import ArgumentParser
import Foundation
import Logging
import OrcaAgent
import OrcaAPI
import OrcaClient
import OrcaPKI
import ServiceLifecycle

/// `orca agent`: a node that joins a server over HTTPS with its join token and runs the pods
/// the scheduler binds to it.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agent", abstract: "Run a node agent that joins an Orca server.")

    @Option(help: "The server's URL, e.g. https://10.0.0.1:6443.") var server: String
    @Option(help: "The join token (the content of the server's <data-dir>/node-token).") var token: String?
    @Option(help: "A file holding the join token.") var tokenFile: String?
    @Option(help: "Name of the node (default: the host name).") var nodeName: String?
    @Option(help: "The node's InternalIP (default: the host's primary IPv4 address).") var nodeIP: String?
    @Option(help: "Directory for the node's state.") var dataDir = "/var/lib/orca-agent"
    @Option(help: "Directory of runtime state such as namespace mounts.") var runDir = "/run/orca-agent"
    @Option(help: "Directory of container logs.") var podLogDir = "/var/log/pods"
    @Option(help: "Name of the pod network bridge.") var bridgeName = "orca0"
    @Option(help: "The cgroup under which the node's containers get theirs.") var cgroupRoot = "/orca"
    @Option(name: .customLong("node-label"), help: "A label of the node, KEY=VALUE; repeatable.") var nodeLabels: [String] = []
    @Option(name: .customLong("node-taint"), help: "A taint of the node, KEY[=VALUE]:EFFECT; repeatable.") var nodeTaints: [String] = []
    @Option(help: "Log level (trace, debug, info, warning, error).") var logLevel = "info"
    @Option(help: "Port of the kubelet server (logs, exec, attach, port-forward of this node's pods).") var kubeletPort = 10250
    @Option(name: .customLong("cluster-dns"), help: "The cluster DNS address pods resolve with; the node serves it.") var clusterDNS = "10.43.0.10"
    @Option(help: "The cluster DNS domain.") var clusterDomain = "cluster.local"
    @Option(help: "The cluster's pod network (traffic from outside it to Services is masqueraded).") var clusterCIDR = "10.42.0.0/16"
    @Option(help: "The Services' network, as the server's --service-cidr.") var serviceCIDR = "10.43.0.0/16"
    @OptionGroup var sysctlOptions: SysctlOptions
    @OptionGroup var registryOptions: RegistryOptions

    func validate() throws {
        guard server.hasPrefix("https://") else { throw ValidationError("--server must be an https:// URL, not \"\(server)\"") }
        guard (token == nil) != (tokenFile == nil) else { throw ValidationError("give the join token with exactly one of --token and --token-file") }
        _ = try labels()
        _ = try taints()
        if let nodeName { try NodeName.validate(nodeName) }
        guard IPv4CIDR.parse(clusterDNS) != nil else { throw ValidationError("--cluster-dns must be an IPv4 address, not \"\(clusterDNS)\"") }
        guard IPv4CIDR(clusterCIDR) != nil else { throw ValidationError("--cluster-cidr must be an IPv4 network, not \"\(clusterCIDR)\"") }
        guard IPv4CIDR(serviceCIDR) != nil else { throw ValidationError("--service-cidr must be an IPv4 network, not \"\(serviceCIDR)\"") }
    }


    func labels() throws -> [String: String] {
        var out: [String: String] = [:]
        for l in nodeLabels {
            let parts = l.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--node-label takes KEY=VALUE, not \"\(l)\"") }
            out[parts[0]] = parts[1]
        }
        return out
    }

    func taints() throws -> [Taint] {
        try nodeTaints.map { text in
            guard let colon = text.lastIndex(of: ":") else { throw ValidationError("--node-taint takes KEY[=VALUE]:EFFECT, not \"\(text)\"") }
            let effect = String(text[text.index(after: colon)...])
            guard ["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(effect) else {
                throw ValidationError("--node-taint \"\(text)\": the effect must be NoSchedule, PreferNoSchedule or NoExecute")
            }
            let kv = text[..<colon].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let key = kv.first, !key.isEmpty else { throw ValidationError("--node-taint \"\(text)\" has no key") }
            return Taint(effect: effect, key: key, value: kv.count > 1 ? kv[1] : nil)
        }
    }

    mutating func run() async throws {
        let logLevel = self.logLevel
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return h
        }
        let logger = Logger(label: "orca.agent")
        let tokenText: String
        if let token { tokenText = token } else {
            do { tokenText = try String(contentsOfFile: tokenFile!, encoding: .utf8) } catch {
                throw ValidationError("cannot read --token-file \(tokenFile!): \(error)")
            }
        }
        let joinToken: NodeJoinToken
        do { joinToken = try NodeJoinToken(parsing: tokenText) } catch { throw ValidationError("\(error)") }
        let nodeName = self.nodeName ?? NodeAddress.hostname()
        let nodeIP = self.nodeIP ?? NodeAddress.primaryIPv4() ?? "127.0.0.1"
        try PrivateFiles.directory(dataDir, mode: 0o711)
        for dir in ["pods", "runtime"] { try PrivateFiles.directory("\(dataDir)/\(dir)", mode: 0o700) }

        let bootstrap = NodeBootstrap(server: server, token: joinToken, nodeName: nodeName, directory: dataDir + "/tls")
        let kubeconfig = try await bootstrap.clientKubeconfig()
        let ca = try await bootstrap.certificateAuthority()
        // The client follows the node's client certificate as it is renewed.
        let client = RotatingAPIClient(try HTTPSAPIClient(kubeconfig: kubeconfig))
        // Whatever ends the agent, its client's connections are closed before the process goes on.
        do {
            let clientCertificate = NodeCertificateManager(
                kind: .client, nodeName: nodeName, directory: bootstrap.directory, caPEM: ca,
                current: try .init(certificatePEM: String(decoding: kubeconfig.clientCertificatePEM ?? [], as: UTF8.self),
                                   keyPEM: String(decoding: kubeconfig.clientKeyPEM ?? [], as: UTF8.self)),
                requester: bootstrap.requester(client: client),
                onRotated: { issued in
                    do {
                        let renewed = try HTTPSAPIClient(kubeconfig: bootstrap.kubeconfig(ca: ca, cert: issued.certificatePEM, key: issued.keyPEM))
                        await client.rotate(to: renewed)
                    } catch {
                        logger.error("cannot use the renewed client certificate (in use from the next start): \(error)")
                    }
                })

            var config = EmbeddedAgent.Configuration(dataDir: dataDir, nodeName: nodeName, hostIP: nodeIP)
            config.podCIDR = nil
            config.bridgeName = bridgeName
            config.logRoot = podLogDir
            config.runDir = runDir
            config.cgroupRoot = cgroupRoot
            config.nodeLabels = try labels()
            config.nodeTaints = try taints()
            config.registries = registryOptions.configuration
            config.clusterDNS = clusterDNS
            config.clusterDomain = clusterDomain
            config.clusterCIDR = clusterCIDR
            config.serviceCIDR = serviceCIDR
            config.allowedUnsafeSysctls = sysctlOptions.patterns
            // The kubelet server's certificate, asked for as the node.
            let serving = try await bootstrap.servingCertificate(client: client, addresses: [nodeIP])
            let servingCertificate = NodeCertificateManager(
                kind: .serving(addresses: [nodeIP]), nodeName: nodeName, directory: bootstrap.directory, caPEM: ca,
                current: try .init(certificatePEM: serving.cert, keyPEM: serving.key), requester: bootstrap.requester(client: client))
            config.kubeletServer = .init(port: kubeletPort, certificatePEM: serving.cert, keyPEM: serving.key, caPEM: ca)
            // New connections get the renewed serving certificate (KubeletServer sets it as its
            // TLSConfiguration.sslContextCallback).
            config.kubeletServer?.sslContextCallback = servingCertificate.sslContextCallback
            let agent = try await EmbeddedAgent.make(client: client, configuration: config)
            logger.info("node \(nodeName) (\(nodeIP)) runs pods for \(server)")
            print("orca: node \(nodeName) joined \(server)")
            let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
                .init(service: TaskService(name: "agent") { await agent.run() }),
                // Last, so they stop first on shutdown (a renewal under way is abandoned).
                .init(service: TaskService(name: "client-certificate") { await clientCertificate.run() }),
                .init(service: TaskService(name: "serving-certificate") { await servingCertificate.run() }),
            ]
            let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try? await client.shutdown()
    }
}
