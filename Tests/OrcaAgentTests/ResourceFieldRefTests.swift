import Foundation
import OrcaCore
import Testing
@testable import OrcaAgent

/// `resourceFieldRef` values (env and downward API files) as the kubelet computes them:
/// rounded up by the divisor, a missing or zero divisor (what Go clients send) meaning 1, and
/// unset limits read as the node's capacity.
struct ResourceFieldRefTests {
    static let container: JSONValue = ["name": "c", "resources": [
        "requests": ["cpu": "250m", "memory": "32Mi"], "limits": ["cpu": "1250m", "memory": "64Mi"],
    ]]

    @Test(arguments: [
        ("requests.cpu", nil, "1"), ("requests.cpu", "0", "1"), ("requests.cpu", "1m", "250"),
        ("limits.cpu", nil, "2"), ("limits.cpu", "1m", "1250"),
        ("requests.memory", nil, "33554432"), ("requests.memory", "0", "33554432"), ("limits.memory", "1Mi", "64"),
    ] as [(String, String?, String)])
    func valuesAreRoundedUpByTheDivisor(resource: String, divisor: String?, expected: String) {
        #expect(EnvironmentResolver.resourceValue(Self.container, resource, divisor: divisor) == expected)
    }

    @Test func unsetLimitsReadAsTheNodesCapacity() {
        let bare: JSONValue = ["name": "c"]
        #expect(EnvironmentResolver.resourceValue(bare, "limits.cpu", divisor: nil) == String(ProcessInfo.processInfo.activeProcessorCount))
        #expect(EnvironmentResolver.resourceValue(bare, "requests.cpu", divisor: nil) == "0")
        #expect(Int64(EnvironmentResolver.resourceValue(bare, "limits.memory", divisor: "1Mi")) ?? 0 > 0)
    }
}
