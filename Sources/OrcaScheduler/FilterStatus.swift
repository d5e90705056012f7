/// Why a node cannot take a pod: a rejecting status of the scheduling framework, with the
/// plugin that rejected and the reasons it gave (as they appear in FailedScheduling).
public struct FilterStatus: Sendable, Hashable {
    /// How final the rejection is.
    public enum Code: Sendable, Hashable {
        /// The node might take the pod if pods were removed from it (preemption could help).
        case unschedulable
        /// Removing pods would not help (`UnschedulableAndUnresolvable`).
        case unschedulableAndUnresolvable
    }

    /// How final the rejection is.
    public var code: Code
    /// The reasons, each counted once per node in the message.
    public var reasons: [String]
    /// The plugin that rejected.
    public var plugin: String

    /// A rejection by `plugin` for `reasons`.
    public init(_ code: Code, _ reasons: [String], plugin: String) {
        self.code = code
        self.reasons = reasons
        self.plugin = plugin
    }

    /// A rejection by `plugin` for one reason.
    public init(_ code: Code, _ reason: String, plugin: String) {
        self.init(code, [reason], plugin: plugin)
    }

    /// The reasons joined as Kubernetes' `Status.Message()` does.
    public var message: String { reasons.joined(separator: ", ") }
}
