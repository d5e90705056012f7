/// How far a pull is: bytes of config and layers present (downloaded or already stored) of the total.
public struct RegistryProgress: Sendable, Hashable {
    /// Bytes done so far, including blobs that were already in the store.
    public var completedBytes: Int64
    /// The size of the image's config and layer blobs.
    public var totalBytes: Int64

    public init(completedBytes: Int64, totalBytes: Int64) {
        self.completedBytes = completedBytes
        self.totalBytes = totalBytes
    }

    /// `completedBytes / totalBytes`, 1 for an empty image.
    public var fraction: Double { totalBytes > 0 ? Double(completedBytes) / Double(totalBytes) : 1 }
}

/// Called as a pull progresses (from any task; keep it cheap).
public typealias RegistryProgressHandler = @Sendable (RegistryProgress) -> Void
