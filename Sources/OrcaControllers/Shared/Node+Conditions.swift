import Foundation
import OrcaClient

extension Node {
    /// The status condition of `type`, if the node has one (`GetNodeCondition`).
    public func condition(_ type: String) -> NodeCondition? {
        status?.conditions?.first { $0.type == type }
    }

    /// The `Ready` condition.
    public var readyCondition: NodeCondition? { condition("Ready") }

    /// The `Ready` condition is `True` (`nodeutil.IsNodeReady`).
    public var isReady: Bool { readyCondition?.status == "True" }

    /// The node's taints of effect `NoExecute`.
    public var noExecuteTaints: [Taint] {
        (spec?.taints ?? []).filter { $0.effect == WellKnownTaints.noExecute }
    }
}
