import Synchronization

/// The RBAC policy requests are authorized against: a snapshot of every Role, ClusterRole and
/// binding, replaced whole by `RBACPolicyController` when one of them changes.
public final class RBACPolicyStore: Sendable {
    private let current: Mutex<RBACAuthorizer>

    public init(_ policy: RBACPolicy = .empty) {
        current = Mutex(RBACAuthorizer(policy: policy))
    }

    /// The authorizer over the newest snapshot.
    public var authorizer: RBACAuthorizer { current.withLock { $0 } }

    /// Replaces the snapshot.
    public func replace(_ policy: RBACPolicy) {
        current.withLock { $0 = RBACAuthorizer(policy: policy) }
    }
}
