import Foundation
import OrcaCore
import OrcaNetwork
import Testing

/// Answers plugin runs with a canned output and records what it was given.
///
/// `@unchecked Sendable`: `calls`, its only mutable state, is changed only under `lock`.
final class NetworkFakeCNIExecutor: CNIPluginExecutor, @unchecked Sendable {
    let output: CNIPluginOutput
    private let lock = NSLock()
    private(set) var calls: [(path: String, env: [String: String], stdin: [UInt8])] = []

    init(_ output: CNIPluginOutput) { self.output = output }

    func execute(pluginPath: String, environment: [String: String], standardInput: [UInt8]) async throws -> CNIPluginOutput {
        lock.withLock { calls.append((pluginPath, environment, standardInput)) }
        return output
    }
}

struct NetworkCNIPluginTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")))
    func versionOfRealPluginsDecodes() async throws {
        for type in ["bridge", "loopback", "host-local", "portmap"] {
            let info = try await CNIPlugin(type: type).version()
            #expect(info.cniVersion == "1.0.0")
            #expect(info.supportedVersions.contains("1.0.0"))
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge")))
    func realPluginErrorBecomesOrcaError() async throws {
        // No network name: the plugin answers {"code":7,"msg":"missing network name"} before touching anything.
        let plugin = CNIPlugin(type: "bridge")
        let attachment = CNIPlugin.Attachment(containerID: "orca-nettest-none", networkNamespace: "/nonexistent", interfaceName: "eth0")
        do {
            _ = try await plugin.add(config: ["cniVersion": "1.0.0", "type": "bridge"], attachment: attachment)
            Issue.record("ADD without a network name succeeded")
        } catch let error as OrcaError {
            #expect(error.code == .networkPlugin)
            #expect(error.message.contains("missing network name"))
            #expect((error.cause as? CNIPlugin.PluginFailure)?.error.code == 7)
        }
    }

    @Test func missingPluginIsNotFound() async throws {
        let plugin = CNIPlugin(type: "no-such-plugin", pluginDirectories: ["/nonexistent"])
        await #expect(throws: OrcaError.self) { _ = try await plugin.version() }
        #expect(throws: OrcaError.self) { try CNIPlugin(type: "../bin/sh").pluginPath() }
    }

    @Test func addSendsCNIEnvironmentAndConfigAndDecodesResult() async throws {
        let result = """
        {"cniVersion":"1.0.0","interfaces":[{"name":"orca0","mac":"aa:bb:cc:dd:ee:01"},{"name":"veth1","mac":"aa:bb:cc:dd:ee:02"},
         {"name":"eth0","mac":"aa:bb:cc:dd:ee:03","sandbox":"/run/orca/netns/p1"}],
         "ips":[{"interface":2,"address":"10.42.0.7/24","gateway":"10.42.0.1"}],
         "routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.43.0.10"],"search":["cluster.local"]},"extra":true}
        """
        let fake = NetworkFakeCNIExecutor(CNIPluginOutput(exitCode: 0, standardOutput: Array(result.utf8)))
        let plugin = CNIPlugin(type: "bridge", pluginDirectories: ["/usr/lib/cni", "/opt/cni/bin"], executor: fake)
        let config: JSONValue = ["cniVersion": "1.0.0", "name": "orca", "type": "bridge"]
        let attachment = CNIPlugin.Attachment(containerID: "p1", networkNamespace: "/run/orca/netns/p1", interfaceName: "eth0",
                                              args: [("K8S_POD_NAME", "web"), ("K8S_POD_NAMESPACE", "default")])
        // The fake does not need the binary, but the lookup does.
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge") else { return }
        let r = try await plugin.add(config: config, attachment: attachment)

        #expect(r.interfaces?.count == 3)
        #expect(r.sandboxInterface(named: "eth0")?.mac == "aa:bb:cc:dd:ee:03")
        #expect(r.hostInterfaces.map(\.name) == ["orca0", "veth1"])
        let ip = try #require(r.ipv4(interfaceName: "eth0"))
        #expect(ip.ip == "10.42.0.7" && ip.prefixLength == 24 && ip.gateway == "10.42.0.1")
        #expect(r.routes == [CNIResult.Route(dst: "0.0.0.0/0")])
        #expect(r.dns?.nameservers == ["10.43.0.10"])

        let call = try #require(fake.calls.first)
        #expect(call.path == "/usr/lib/cni/bridge")
        #expect(call.env["CNI_COMMAND"] == "ADD")
        #expect(call.env["CNI_CONTAINERID"] == "p1")
        #expect(call.env["CNI_NETNS"] == "/run/orca/netns/p1")
        #expect(call.env["CNI_IFNAME"] == "eth0")
        #expect(call.env["CNI_PATH"] == "/usr/lib/cni:/opt/cni/bin")
        #expect(call.env["CNI_ARGS"] == "K8S_POD_NAME=web;K8S_POD_NAMESPACE=default")
        #expect(try JSONValue.parse(call.stdin) == config)
    }

    @Test(arguments: [
        (#"{"cniVersion":"1.0.0","code":11,"msg":"try again","details":"lock held"}"#, "", "try again: lock held (code 11)"),
        (#"{"code":7,"msg":"bad config"}"#, "", "bad config (code 7)"),
        ("", "panic: something broke\n", "exited 2: panic: something broke"),
        ("not json", "", "exited 2: not json"),
    ])
    func pluginFailuresCarryTheMessage(stdout: String, stderr: String, expected: String) async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/loopback") else { return }
        let fake = NetworkFakeCNIExecutor(CNIPluginOutput(exitCode: 2, standardOutput: Array(stdout.utf8), standardError: Array(stderr.utf8)))
        let plugin = CNIPlugin(type: "loopback", executor: fake)
        let attachment = CNIPlugin.Attachment(containerID: "p", networkNamespace: "", interfaceName: "lo")
        do {
            try await plugin.delete(config: ["cniVersion": "1.0.0", "name": "lo", "type": "loopback"], attachment: attachment)
            Issue.record("failure not thrown")
        } catch let error as OrcaError {
            #expect(error.code == .networkPlugin)
            #expect(error.message.hasSuffix(expected), "\(error.message)")
            #expect(error.message.hasPrefix("CNI plugin loopback DEL"))
        }
    }

    @Test func undecodableAddResultIsAnError() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge") else { return }
        let fake = NetworkFakeCNIExecutor(CNIPluginOutput(exitCode: 0, standardOutput: Array("{\"ips\": 5}".utf8)))
        let plugin = CNIPlugin(type: "bridge", executor: fake)
        await #expect(throws: OrcaError.self) {
            _ = try await plugin.add(config: [:], attachment: .init(containerID: "p", networkNamespace: "/x", interfaceName: "eth0"))
        }
    }

    @Test func bridgeConfigIsOrcasWithoutMasquerade() throws {
        let net = PodNetwork(configuration: .init(bridgeName: "orca0", subnet: "10.42.0.0/24", dataDirectory: "/var/lib/orca"))
        let json = try JSONValue(encoding: net.bridgeConfig())
        let expected = try JSONValue.parse("""
        {"cniVersion":"1.0.0","name":"orca","type":"bridge","bridge":"orca0","isGateway":true,"ipMasq":false,"hairpinMode":true,
         "ipam":{"type":"host-local","ranges":[[{"subnet":"10.42.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":"/var/lib/orca/cni/networks"}}
        """)
        #expect(json == expected)
    }
}
