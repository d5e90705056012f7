import Foundation
import Glibc
import OrcaCore

/// The kubelet's image garbage collection for an `ImageStore`: removes the images no container
/// uses, all at once (`prune`) or, when the disk fills up, least recently used first until
/// enough space is free (`collectIfNeeded`).
///
/// An image is *used* when some container the runtime lists — running or stopped, any record —
/// has the image's layer directories as (or among) its `rootfsLayers`. The built-in images
/// (`BuiltinImages.busyboxNames`) are never removed: pods rely on them with no registry. Layer
/// directories a container uses are never deleted, even when the image they came from is
/// removed or was re-tagged.
public struct ImageGarbageCollector: Sendable {
    /// The store images are removed from.
    public let store: ImageStore
    /// Lists the containers whose images are in use.
    public let runtime: any ContainerRuntime
    /// Disk use (percent of capacity) at or above which `collectIfNeeded` removes images.
    public var highThresholdPercent: Int
    /// Disk use (percent of capacity) `collectIfNeeded` frees space down to.
    public var lowThresholdPercent: Int
    /// Images used (or stored) more recently than this are left to `collectIfNeeded`, so an image
    /// made ready for a container that is not created yet is not removed under it (the kubelet's
    /// `imageMinimumGCAge`, 2 minutes).
    public var minimumAge: TimeInterval = 120
    /// Orphaned content (and `tmp/` entries) changed more recently than this is left alone: a pull
    /// may be in flight.
    public var orphanGracePeriod: TimeInterval = 3600
    let diskUsage: @Sendable () throws -> (used: Int64, capacity: Int64)
    let clock: @Sendable () -> Date

    /// A collector for `store`, asking `runtime` which containers exist.
    ///
    /// - Parameters:
    ///   - diskUsage: the used and total bytes of the store's file system; nil measures them with
    ///     `statvfs` of `store.root` (used = capacity − space available to unprivileged users, as
    ///     the kubelet counts).
    ///   - clock: the current time (for `minimumAge` and `orphanGracePeriod`).
    public init(store: ImageStore, runtime: any ContainerRuntime, highThresholdPercent: Int = 85, lowThresholdPercent: Int = 80,
                diskUsage: (@Sendable () throws -> (used: Int64, capacity: Int64))? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.runtime = runtime
        self.highThresholdPercent = highThresholdPercent
        self.lowThresholdPercent = lowThresholdPercent
        let root = store.root
        self.diskUsage = diskUsage ?? { try Self.fileSystemUsage(of: root) }
        self.clock = clock
    }

    /// Removes every image that no container (running or stopped, any record the runtime lists)
    /// uses, except the built-in images, then the orphaned content older than `orphanGracePeriod`;
    /// returns the removed names.
    public func prune() async throws -> [String] {
        let usage = try await layerUsage()
        var removed: [String] = []
        for candidate in try candidates(usage) {
            removed += try remove(candidate, usage)
        }
        try store.removeOrphans(changedBefore: clock().addingTimeInterval(-orphanGracePeriod), keepingLayers: usage.inUse)
        return removed
    }

    /// When disk use is at or above the high threshold, removes orphaned content and then unused
    /// images (least recently used first, none used within `minimumAge`) until disk use is at or
    /// below the low threshold or none are left; returns the removed names.
    ///
    /// Disk use is measured again after each removal, so what counts is the space really freed
    /// (unpacked layers included), not the images' compressed sizes.
    public func collectIfNeeded() async throws -> [String] {
        guard (0...100).contains(lowThresholdPercent), (0...100).contains(highThresholdPercent),
              lowThresholdPercent <= highThresholdPercent else {
            throw OrcaError(.invalid, "image GC thresholds must satisfy 0 <= low (\(lowThresholdPercent)) <= high (\(highThresholdPercent)) <= 100")
        }
        var disk = try diskUsage()
        guard disk.capacity > 0, disk.used * 100 >= disk.capacity * Int64(highThresholdPercent) else { return [] }
        let target = disk.capacity * Int64(lowThresholdPercent) / 100
        let usage = try await layerUsage()
        let now = clock()
        try store.removeOrphans(changedBefore: now.addingTimeInterval(-orphanGracePeriod), keepingLayers: usage.inUse)
        disk = try diskUsage()
        let oldest = try candidates(usage)
            .map { ($0, store.lastUsed($0) ?? .distantPast) }
            .filter { $0.1 <= now.addingTimeInterval(-minimumAge) }
            .sorted { ($0.1, $0.0.name) < ($1.1, $1.0.name) }
        var removed: [String] = []
        for (image, _) in oldest where disk.used > target {
            removed += try remove(image, usage)
            disk = try diskUsage()
        }
        return removed
    }

    // MARK: - Internals

    /// The layer directories of every container the runtime lists.
    struct LayerUsage {
        /// Each container's layers.
        var containers: [Set<String>]
        /// Every layer some container uses.
        var inUse: Set<String>

        /// Whether a container's layers are the image's (or include all of them).
        func uses(_ image: Image) -> Bool {
            let layers = Set(image.layers)
            return containers.contains { $0 == layers || (!layers.isEmpty && layers.isSubset(of: $0)) }
        }
    }

    func layerUsage() async throws -> LayerUsage {
        let containers = try await runtime.list().map { Set($0.config.rootfsLayers) }
        return LayerUsage(containers: containers, inUse: containers.reduce(into: Set()) { $0.formUnion($1) })
    }

    /// The images (one per manifest, named by its first name) that may be removed: unused, not built in.
    func candidates(_ usage: LayerUsage) throws -> [Image] {
        var seen = Set<ContentDigest>()
        let builtin = Set(BuiltinImages.busyboxNames)
        return try store.list().filter { image in
            guard seen.insert(image.manifestDigest).inserted else { return false }
            return builtin.isDisjoint(with: image.repoTags) && !usage.uses(image)
        }
    }

    /// Removes every name of `image`; returns them.
    private func remove(_ image: Image, _ usage: LayerUsage) throws -> [String] {
        var removed: [String] = []
        for name in image.repoTags {
            if try store.remove(name, keepingLayers: usage.inUse) { removed.append(name) }
        }
        return removed
    }

    /// Used and total bytes of the file system holding `path` (used = total − available to unprivileged users).
    static func fileSystemUsage(of path: String) throws -> (used: Int64, capacity: Int64) {
        var st = statvfs()
        try Syscall.call("statvfs", path) { statvfs(path, &st) }
        let capacity = Int64(st.f_blocks) * Int64(st.f_frsize)
        let available = Int64(st.f_bavail) * Int64(st.f_frsize)
        return (capacity - available, capacity)
    }
}
