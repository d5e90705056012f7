import Foundation
import OrcaCore

/// A pod sandbox's namespaces and network: bind-mounted network/UTS/IPC namespaces (`PodNamespaces`),
/// then CNI `loopback` and `bridge` (+ `host-local` IPAM) attached to them.
///
/// The bridge plugin's result is cached at `<data-dir>/cni/results/<pod-id>.json`, so `setUp` of a
/// sandbox that already exists (after an agent restart, say) returns it without touching the network,
/// and `tearDown` passes it to `DEL` as `prevResult`.
public struct PodNetwork: PodNetworking {
    /// Where and how pods are networked.
    public struct Configuration: Sendable, Hashable {
        /// CNI network name (host-local keeps allocations in `<data-dir>/cni/networks/<name>`).
        public var networkName: String
        /// The Linux bridge (at most 15 bytes).
        public var bridgeName: String
        /// The node's pod CIDR, e.g. `10.42.0.0/24`.
        public var subnet: String
        /// Holds `netns/`, `uts/` and `ipc/`.
        public var runDirectory: String
        /// Holds `cni/networks` (host-local) and `cni/results` (result cache).
        public var dataDirectory: String
        /// Directories searched for plugins (`CNI_PATH`).
        public var pluginDirectories: [String]
        /// The pod's interface name.
        public var interfaceName: String
        /// veth MTU, when not the default.
        public var mtu: Int?

        /// Creates a configuration; the defaults are Orca's.
        public init(networkName: String = "orca", bridgeName: String = "orca0", subnet: String = "10.42.0.0/24",
                    runDirectory: String = "/run/orca", dataDirectory: String = "/var/lib/orca",
                    pluginDirectories: [String] = ["/usr/lib/cni"], interfaceName: String = "eth0", mtu: Int? = nil) {
            self.networkName = networkName
            self.bridgeName = bridgeName
            self.subnet = subnet
            self.runDirectory = runDirectory
            self.dataDirectory = dataDirectory
            self.pluginDirectories = pluginDirectories
            self.interfaceName = interfaceName
            self.mtu = mtu
        }

        /// host-local's data directory: `<data-dir>/cni/networks`.
        public var ipamDataDirectory: String { "\(dataDirectory)/cni/networks" }
        /// Where bridge `ADD` results are cached: `<data-dir>/cni/results`.
        public var resultsDirectory: String { "\(dataDirectory)/cni/results" }
    }

    /// The configuration.
    public var configuration: Configuration
    /// The namespace holder.
    public var namespaces: PodNamespaces
    /// Runs plugin binaries.
    public var executor: any CNIPluginExecutor

    /// Creates a pod network.
    public init(configuration: Configuration = Configuration(), executor: any CNIPluginExecutor = SubprocessCNIExecutor()) {
        self.configuration = configuration
        self.namespaces = PodNamespaces(runDirectory: configuration.runDirectory)
        self.executor = executor
    }

    /// The bridge network configuration sent to the plugin.
    public func bridgeConfig(prevResult: CNIResult? = nil) -> CNIBridgeNetworkConfig {
        CNIBridgeNetworkConfig(
            name: configuration.networkName,
            bridge: configuration.bridgeName,
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            mtu: configuration.mtu,
            ipam: .init(
                ranges: [[.init(subnet: configuration.subnet)]],
                routes: [.init(dst: "0.0.0.0/0")],
                dataDir: configuration.ipamDataDirectory
            ),
            prevResult: prevResult
        )
    }

    /// The loopback network configuration.
    public var loopbackConfig: JSONValue {
        ["cniVersion": "1.0.0", "name": .string("\(configuration.networkName)-loopback"), "type": "loopback"]
    }

    var bridge: CNIPlugin { CNIPlugin(type: "bridge", pluginDirectories: configuration.pluginDirectories, executor: executor) }
    var loopback: CNIPlugin { CNIPlugin(type: "loopback", pluginDirectories: configuration.pluginDirectories, executor: executor) }

    /// Creates the pod's namespaces (hostname set), brings `lo` up and attaches `eth0` to the bridge.
    ///
    /// Idempotent: an existing sandbox with a cached result is returned as is. A partial one (a crash
    /// between steps) is cleaned with `DEL` and attached again. On failure nothing is left behind.
    public func setUp(podID: String, hostname: String) async throws -> PodSandboxNetwork {
        let (paths, created) = try await namespaces.create(podID: podID, hostname: hostname)
        let cached = cachedResult(podID: podID)
        if !created, let cached, let sandbox = try? sandbox(podID: podID, paths: paths, result: cached) {
            return sandbox
        }
        do {
            if !created || cached != nil {
                try await deleteAttachments(podID: podID, netns: paths.network, prevResult: cached)
                try removeCachedResult(podID: podID)
            }
            _ = try await loopback.add(config: loopbackConfig, attachment: attachment(podID, paths.network, ifName: "lo"))
            let result = try await bridge.add(config: JSONValue(encoding: bridgeConfig()), attachment: attachment(podID, paths.network))
            let sandbox = try sandbox(podID: podID, paths: paths, result: result)
            try writeCachedResult(result, podID: podID)
            return sandbox
        } catch {
            // Best effort: release what ADD may have taken, then drop the namespaces whatever DEL said.
            try? await deleteAttachments(podID: podID, netns: paths.network, prevResult: nil)
            try? namespaces.remove(podID: podID)
            try? removeCachedResult(podID: podID)
            throw error
        }
    }

    public func setUpHostNetwork(podID: String, hostIP: String) async throws -> PodSandboxNetwork {
        // The pod's own namespaces are made as for any pod (its IPC one is used; tearDown removes all three).
        var (paths, _) = try await namespaces.create(podID: podID, hostname: "host-network")
        paths.network = PodNamespacePaths.hostNetwork
        paths.uts = PodNamespacePaths.hostUTS
        return PodSandboxNetwork(podID: podID, namespaces: paths, interfaceName: "", podIP: hostIP, prefixLength: 32, cniResult: CNIResult())
    }

    /// Calls `DEL` on the bridge (releasing the host-local address and the veth) and loopback, then
    /// removes the namespaces and the cached result. A missing sandbox is fine.
    public func tearDown(podID: String) async throws {
        try PodNamespaces.validate(podID: podID)
        let netns = namespaces.paths(podID: podID).network
        try await deleteAttachments(podID: podID, netns: netns, prevResult: cachedResult(podID: podID))
        try namespaces.remove(podID: podID)
        try removeCachedResult(podID: podID)
    }

    /// Runs CNI `CHECK` on the pod's bridge attachment against its cached result: throws when the
    /// interface, address or routes are no longer what `ADD` made (e.g. before adopting a sandbox).
    public func check(podID: String) async throws {
        guard namespaces.exists(podID: podID), let cached = cachedResult(podID: podID) else {
            throw OrcaError(.notFound, "pod sandbox \(podID) has no network")
        }
        let netns = namespaces.paths(podID: podID).network
        try await bridge.check(config: JSONValue(encoding: bridgeConfig(prevResult: cached)), attachment: attachment(podID, netns))
    }

    /// The sandbox of `podID` if its namespaces are mounted and its result is cached; no plugin runs.
    public func existingSandbox(podID: String) -> PodSandboxNetwork? {
        guard namespaces.exists(podID: podID), let cached = cachedResult(podID: podID) else { return nil }
        return try? sandbox(podID: podID, paths: namespaces.paths(podID: podID), result: cached)
    }

    /// `DEL` for bridge then loopback; the netns is passed only while it is still mounted.
    func deleteAttachments(podID: String, netns: String, prevResult: CNIResult?) async throws {
        let mounted = SystemCall.isNamespaceMount(netns) ? netns : ""
        try await bridge.delete(config: JSONValue(encoding: bridgeConfig(prevResult: prevResult)), attachment: attachment(podID, mounted))
        if !mounted.isEmpty {
            try await loopback.delete(config: loopbackConfig, attachment: attachment(podID, mounted, ifName: "lo"))
        }
    }

    func attachment(_ podID: String, _ netns: String, ifName: String? = nil) -> CNIPlugin.Attachment {
        CNIPlugin.Attachment(containerID: podID, networkNamespace: netns, interfaceName: ifName ?? configuration.interfaceName)
    }

    func sandbox(podID: String, paths: PodNamespacePaths, result: CNIResult) throws -> PodSandboxNetwork {
        guard let ip = result.ipv4(interfaceName: configuration.interfaceName) else {
            throw OrcaError(.networkPlugin, "CNI plugin bridge ADD for pod \(podID) returned no IPv4 address")
        }
        let hostVeth = result.hostInterfaces.first { $0.name != configuration.bridgeName }?.name
        return PodSandboxNetwork(
            podID: podID, namespaces: paths, interfaceName: configuration.interfaceName,
            podIP: ip.ip, prefixLength: ip.prefixLength ?? 32, gateway: ip.gateway,
            hostInterfaceName: hostVeth, cniResult: result
        )
    }

    func resultPath(podID: String) -> String { "\(configuration.resultsDirectory)/\(podID).json" }

    func cachedResult(podID: String) -> CNIResult? {
        guard let data = FileManager.default.contents(atPath: resultPath(podID: podID)) else { return nil }
        return try? JSONDecoder().decode(CNIResult.self, from: data)
    }

    func writeCachedResult(_ result: CNIResult, podID: String) throws {
        try SystemCall.createDirectories(configuration.resultsDirectory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            try PrivateFiles.write(encoder.encode(result), to: resultPath(podID: podID))
        } catch {
            throw OrcaError(.system, "cannot write \(resultPath(podID: podID))", cause: error)
        }
    }

    func removeCachedResult(podID: String) throws {
        try SystemCall.removeFile(resultPath(podID: podID))
    }
}
