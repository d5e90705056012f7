import Foundation
import OrcaClient

/// The node agent as run inside `orca server`: node registration and heartbeats, and
/// the pods bound to this node.
public struct EmbeddedAgent: Sendable {
    public let nodeName: String
    let reporter: NodeStatusReporter

    public static func make(client: any APIClient, dataDir: String, nodeName: String, hostIP: String) async throws -> EmbeddedAgent {
        EmbeddedAgent(nodeName: nodeName,
                      reporter: NodeStatusReporter(client: client, nodeName: nodeName, hostIP: hostIP, podCIDR: "10.42.0.0/24"))
    }

    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await reporter.run() }
            await group.waitForAll()
        }
    }
}
