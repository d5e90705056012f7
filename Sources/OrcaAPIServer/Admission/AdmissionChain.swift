import OrcaAPI

/// The admission plugins of the API server, in order: every mutating step first, then every
/// validating step (kube-apiserver runs webhooks last in each phase).
public struct AdmissionChain: Sendable {
    public var plugins: [any AdmissionPlugin]

    public init(_ plugins: [any AdmissionPlugin] = []) { self.plugins = plugins }

    /// Runs each plugin's `admit`; the object may change.
    func admit(_ attributes: inout AdmissionAttributes, registry: Registry) async throws {
        for plugin in plugins { try await plugin.admit(&attributes, registry: registry) }
    }

    /// Runs each plugin's `validate`.
    func validate(_ attributes: AdmissionAttributes, registry: Registry) async throws {
        for plugin in plugins { try await plugin.validate(attributes, registry: registry) }
    }
}
