import OrcaAPI

/// One admission controller. Mutating plugins change the object in `admit`; validating ones
/// refuse it in `validate` by throwing an `APIError` (403 `Forbidden` for policy, 422 for bad
/// fields). Both run inside the registry's write, so they see what will be stored.
public protocol AdmissionPlugin: Sendable {
    /// The plugin's name, as kube-apiserver's `--enable-admission-plugins` spells it.
    var name: String { get }
    /// Mutates the object before the resource's strategy defaults and validates it.
    func admit(_ attributes: inout AdmissionAttributes, registry: Registry) async throws
    /// Accepts or refuses the object the strategy made, before it is stored.
    func validate(_ attributes: AdmissionAttributes, registry: Registry) async throws
}

extension AdmissionPlugin {
    public func admit(_ attributes: inout AdmissionAttributes, registry: Registry) async throws {}
    public func validate(_ attributes: AdmissionAttributes, registry: Registry) async throws {}
}
