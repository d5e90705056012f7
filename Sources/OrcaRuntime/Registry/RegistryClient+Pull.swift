import Foundation
import OrcaCore

extension RegistryClient {
    /// Fetches the image `reference` names into `store`: resolves its manifest for this platform,
    /// then downloads the config and every layer not stored yet (`concurrentDownloads` at a time).
    /// The caller registers the returned manifest (`ImageStore.register`) to name the image.
    public func pull(_ reference: ImageReference, into store: ImageStore,
                     progress: RegistryProgressHandler? = nil) async throws -> RegistryPullResult {
        let clock = ContinuousClock()
        let start = clock.now
        let resolved = try await resolveManifest(reference)
        for layer in resolved.manifest.layers where layer.mediaType.contains("encrypted") || !layer.mediaType.contains("tar") {
            throw OrcaError(.imagePullFailed, "\(reference): layer \(layer.digest) has unsupported media type \(layer.mediaType)")
        }
        var seen = Set<ContentDigest>()
        let blobs = ([resolved.manifest.config] + resolved.manifest.layers).filter { seen.insert($0.digest).inserted }
        let counter = RegistryProgressCounter(total: blobs.map { max($0.size, 0) }.saturatingSum(), handler: progress)
        let missing = blobs.filter { !store.hasBlob($0.digest) }
        counter.add(blobs.filter { store.hasBlob($0.digest) }.map { max($0.size, 0) }.saturatingSum())

        let downloaded = try await withThrowingTaskGroup(of: Int64.self) { group in
            var pending = missing[...]
            var running = 0
            var total: Int64 = 0
            while running < max(1, concurrentDownloads), let next = pending.popFirst() {
                group.addTask { try await fetchBlob(next, of: reference, into: store, progress: { counter.add($0) }) }
                running += 1
            }
            while let bytes = try await group.next() {
                total += bytes
                if let next = pending.popFirst() {
                    group.addTask { try await fetchBlob(next, of: reference, into: store, progress: { counter.add($0) }) }
                }
            }
            return total
        }
        return RegistryPullResult(
            reference: reference, manifest: resolved.data, manifestDigest: resolved.digest,
            indexDigest: resolved.indexDigest, size: counter.total, downloadedBytes: downloaded,
            blobsDownloaded: missing.count, blobsSkipped: blobs.count - missing.count,
            duration: clock.now - start)
    }
}
