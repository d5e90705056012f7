import AsyncHTTPClient
import Foundation
import OrcaCore

/// Pulls images from registries into an `ImageStore`, one download per image at a time.
///
/// `pull` normalises the name, fetches config and layers with a `RegistryClient`, and registers
/// the image under its name (a digest reference under its `repo@sha256:…` name too). Concurrent
/// pulls of the same normalised reference share one download: later callers await the first's
/// task (and get its result, whatever credentials they passed; progress goes to the first caller).
public actor ImagePuller {
    /// What one pull produced.
    public struct Outcome: Sendable {
        /// The registered image.
        public var image: Image
        /// What was fetched: sizes, blob counts, duration.
        public var result: RegistryPullResult
    }

    /// The store images are pulled into.
    public nonisolated let store: ImageStore
    /// The registry client (its HTTP client is shut down by `shutdown()` only if the puller made it).
    public nonisolated let client: RegistryClient
    private let ownsHTTPClient: Bool
    private var inFlight: [String: Task<Outcome, any Error>] = [:]
    /// How many pulls went to a registry (deduplicated callers do not count).
    public private(set) var registryPulls = 0

    /// A puller using `client` (whose HTTP client the caller shuts down).
    public init(store: ImageStore, client: RegistryClient) {
        self.store = store
        self.client = client
        self.ownsHTTPClient = false
    }

    /// A puller with its own HTTP client; call `shutdown()` when done.
    public init(store: ImageStore, configuration: RegistryConfiguration = RegistryConfiguration()) {
        self.store = store
        self.client = RegistryClient(httpClient: RegistryClient.makeHTTPClient(), configuration: configuration)
        self.ownsHTTPClient = true
    }

    /// Shuts down the HTTP client if this puller created it. Pulls in flight fail.
    public func shutdown() async throws {
        if ownsHTTPClient { try await client.httpClient.shutdown() }
    }

    /// Pulls `reference` (any spelling `ImageReference` accepts) and returns the registered image.
    public func pull(_ reference: String, keyring: RegistryKeyring = RegistryKeyring(),
                     progress: RegistryProgressHandler? = nil) async throws -> Image {
        try await pullWithOutcome(reference, keyring: keyring, progress: progress).image
    }

    /// Like `pull`, also returning what was fetched (for a CLI's summary line).
    public func pullWithOutcome(_ reference: String, keyring: RegistryKeyring = RegistryKeyring(),
                                progress: RegistryProgressHandler? = nil) async throws -> Outcome {
        let ref = try ImageReference(parsing: reference)
        let key = ref.description
        if let running = inFlight[key] { return try await running.value }
        registryPulls += 1
        let client = self.client.with(keyring: keyring)
        let store = self.store
        let task = Task { try await Self.fetchAndRegister(ref, client: client, store: store, progress: progress) }
        inFlight[key] = task
        defer { inFlight[key] = nil }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    private static func fetchAndRegister(_ ref: ImageReference, client: RegistryClient, store: ImageStore,
                                         progress: RegistryProgressHandler?) async throws -> Outcome {
        let result = try await client.pull(ref, into: store, progress: progress)
        var names: [String] = []
        if let digest = ref.digest { names.append("\(ref.repository)@\(digest)") }
        if let tag = ref.tag { names.append("\(ref.repository):\(tag)") }
        var image: Image?
        for name in names { image = try await store.register(name, manifest: result.manifest) }
        guard let image else { throw OrcaError(.internalError, "\(ref) has neither tag nor digest") }
        return Outcome(image: image, result: result)
    }
}
