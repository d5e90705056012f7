import OrcaAPI
import Synchronization

/// The admission webhooks requests are sent to: a snapshot of every MutatingWebhookConfiguration
/// and ValidatingWebhookConfiguration, replaced whole by `WebhookConfigurationController` when
/// one of them changes (kube-apiserver's webhook configuration informers).
public final class WebhookConfigurationStore: Sendable {
    /// The webhooks of one moment, each kind in calling order: configurations by name, then
    /// webhooks in the order their configuration lists them.
    public struct Snapshot: Sendable {
        public var mutating: [AdmissionWebhook]
        public var validating: [AdmissionWebhook]

        public init(mutating: [AdmissionWebhook] = [], validating: [AdmissionWebhook] = []) {
            self.mutating = mutating
            self.validating = validating
        }
    }

    private struct State {
        var snapshot = Snapshot()
        var synced = false
    }

    private let state = Mutex(State())

    public init() {}

    /// The newest snapshot (empty until the first sync).
    public var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// Whether a snapshot has been read from the store yet (kube's `HasSynced`).
    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// Replaces the snapshot with the webhooks of these configurations.
    public func replace(mutating: [MutatingWebhookConfiguration], validating: [ValidatingWebhookConfiguration]) {
        let m = mutating.sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }.flatMap { configuration in
            (configuration.webhooks ?? []).map { AdmissionWebhook($0, configurationName: configuration.metadata?.name ?? "") }
        }
        let v = validating.sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }.flatMap { configuration in
            (configuration.webhooks ?? []).map { AdmissionWebhook($0, configurationName: configuration.metadata?.name ?? "") }
        }
        state.withLock {
            $0.snapshot = Snapshot(mutating: m, validating: v)
            $0.synced = true
        }
    }
}
