import Foundation

/// What `RegistryClient.pull` fetched into the store: the resolved manifest, ready to register.
public struct RegistryPullResult: Sendable {
    /// The reference that was pulled.
    public var reference: ImageReference
    /// The platform manifest's bytes, exactly as the registry served them.
    public var manifest: Data
    /// The platform manifest's digest (the image's `manifestDigest`).
    public var manifestDigest: ContentDigest
    /// The digest of the index / manifest list the manifest was chosen from, if the tag named one.
    public var indexDigest: ContentDigest?
    /// The size of the config and layer blobs.
    public var size: Int64
    /// Bytes actually transferred for blobs (blobs already stored cost nothing).
    public var downloadedBytes: Int64
    /// Blobs fetched from the registry.
    public var blobsDownloaded: Int
    /// Blobs that were already in the store (e.g. a shared base layer).
    public var blobsSkipped: Int
    /// Wall time of the pull.
    public var duration: Duration
}
