import Foundation
import OrcaAPI
import OrcaCore

/// The node's pod bridge with its gateway address (the pod CIDR's first address), made when
/// the agent starts rather than with the first pod, so node-local services on the gateway
/// (the cluster DNS) can listen before any pod exists. The CNI bridge plugin adopts it as it
/// is (`isGateway` finds the address present).
public struct PodBridge: Sendable {
    /// The bridge's name (at most 15 bytes).
    public let name: String
    /// The pod CIDR, e.g. `10.42.0.0/24`.
    public let subnet: IPv4CIDR
    let ipPath: String

    /// Nil when `subnet` is not an IPv4 CIDR with room for a gateway.
    public init?(name: String, subnet: String) {
        guard let cidr = IPv4CIDR(subnet), cidr.size >= 4 else { return nil }
        self.name = name
        self.subnet = cidr
        ipPath = NodeRoutes.firstExecutable(["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"])
    }

    /// The gateway address pods route through (`10.42.0.1`).
    public var gateway: String { subnet.address(at: 1) ?? "" }

    /// Creates the bridge if it is missing, gives it the gateway address and brings it up.
    public func ensure() async throws {
        let exists = try await HostCommand(executable: ipPath, arguments: ["link", "show", "dev", name]).run().succeeded
        if !exists {
            let add = try await HostCommand(executable: ipPath, arguments: ["link", "add", "name", name, "type", "bridge"]).run()
            // Another agent step (a CNI ADD) may have made it meanwhile.
            if !add.succeeded, !add.stderrText.contains("File exists") {
                throw OrcaError(.system, "creating bridge \(name): \(add.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
        _ = try await HostCommand(executable: ipPath, arguments: ["addr", "replace", "\(gateway)/\(subnet.prefixLength)", "dev", name]).checked()
        _ = try await HostCommand(executable: ipPath, arguments: ["link", "set", "dev", name, "up"]).checked()
    }
}
