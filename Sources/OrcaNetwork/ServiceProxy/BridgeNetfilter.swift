import Foundation
import OrcaCore

/// The `net.bridge.bridge-nf-call-iptables` switch (module `br_netfilter`), which the service
/// proxy needs: pods share a bridge, so a reply from a service endpoint to a client pod on the
/// same node is bridged, not routed — without the switch it skips netfilter, is not un-DNATed,
/// and the client drops it.
///
/// `namespace` points at a named network namespace (`ip netns exec`), for tests; nil is ours.
public struct BridgeNetfilter: Sendable {
    /// The switch of the current network namespace.
    public static let sysctl = "/proc/sys/net/bridge/bridge-nf-call-iptables"

    public var namespace: String?
    public var modprobePath: String
    public var ipPath: String
    public var teePath: String

    /// Binaries default to the first found in the usual places.
    public init(namespace: String? = nil, modprobePath: String? = nil, ipPath: String? = nil, teePath: String? = nil) {
        self.namespace = namespace
        self.modprobePath = modprobePath ?? NodeRoutes.firstExecutable(["/usr/sbin/modprobe", "/sbin/modprobe", "/usr/bin/modprobe"])
        self.ipPath = ipPath ?? NodeRoutes.firstExecutable(["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"])
        self.teePath = teePath ?? NodeRoutes.firstExecutable(["/usr/bin/tee", "/bin/tee"])
    }

    /// Sets the switch to 1, loading `br_netfilter` first when the switch does not exist.
    /// Throws when neither works (no module, no permission).
    public func enable() async throws {
        if (try? await write()) != nil { return }
        // The switch appears once br_netfilter is loaded.
        let out = try await HostCommand(executable: modprobePath, arguments: ["br_netfilter"]).run()
        do {
            try await write()
        } catch {
            let detail = out.succeeded ? "" : " (modprobe br_netfilter: \(out.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)))"
            throw OrcaError(.system, "cannot set \(Self.sysctl) to 1\(detail)", cause: error)
        }
    }

    /// Whether the switch is on (false when it does not exist).
    public func isEnabled() async -> Bool {
        guard let namespace else {
            return (try? String(contentsOfFile: Self.sysctl, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        }
        let out = try? await HostCommand(executable: ipPath, arguments: ["netns", "exec", namespace, "cat", Self.sysctl]).run()
        return out?.succeeded == true && out?.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
    }

    func write() async throws {
        guard let namespace else {
            guard FileManager.default.fileExists(atPath: Self.sysctl) else {
                throw OrcaError(.system, "\(Self.sysctl) does not exist")
            }
            if await isEnabled() { return }
            try SystemCall.writeFile(Self.sysctl, Array("1\n".utf8))
            return
        }
        // /proc/sys/net shows the network namespace of whoever opens it, so the write runs inside.
        try await HostCommand(executable: ipPath, arguments: ["netns", "exec", namespace, teePath, Self.sysctl],
                              standardInput: Array("1\n".utf8)).checked()
    }
}
