import Foundation
import Glibc
import OrcaCore
import Testing
@testable import OrcaRuntime

/// A runtime that only answers `list()` with containers made from the given layer sets: the
/// collector asks nothing else, and a real runtime would need real containers for each case.
private struct ListedContainers: ContainerRuntime {
    var layers: [[String]]

    func list() async throws -> [ContainerInfo] {
        layers.enumerated().map { index, layers in
            ContainerInfo(config: ContainerConfig(id: "c\(index)", args: ["sh"], rootfsLayers: layers, cgroupsPath: "/test/c\(index)"),
                          logPath: "/dev/null", createdAt: Date(timeIntervalSince1970: 0),
                          status: .exited(exitCode: 0, startedAt: nil, finishedAt: Date(timeIntervalSince1970: 1), oomKilled: false))
        }
    }
    func create(_ config: ContainerConfig, logPath: String) async throws { throw OrcaError(.internalError, "not in this test") }
    func start(_ id: String) async throws { throw OrcaError(.internalError, "not in this test") }
    func state(_ id: String) async throws -> ContainerStatus { throw OrcaError(.notFound, "container \(id) not found") }
    func stop(_ id: String, gracePeriod: Duration) async throws {}
    func remove(_ id: String) async throws {}
}

/// Builds small images straight into a store (no registry): uncompressed layers of a few files.
private struct ImageBuilder {
    let store: ImageStore

    /// A layer blob holding `files` (path → contents), stored and returned by digest (= diff ID).
    func layer(_ files: [String: String]) async throws -> ContentDigest {
        let work = store.stagingPath("test-layer")
        defer { try? FileManager.default.removeItem(atPath: work) }
        for (path, text) in files {
            let file = URL(fileURLWithPath: "\(work)/root/\(path)")
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file)
        }
        try await SubprocessCommandRunner().checked("/bin/tar", [
            "--create", "--file", "\(work)/layer.tar", "--directory", "\(work)/root", "--sort=name", "--owner=0", "--group=0", ".",
        ])
        return try store.putBlob(movingFileAt: "\(work)/layer.tar").digest
    }

    /// Registers an image of `layers` under every name in `names`.
    @discardableResult
    func image(_ names: [String], layers: [ContentDigest]) async throws -> Image {
        let configuration = OCIImage.Configuration(architecture: OCIImage.hostArchitecture, config: ImageConfig(cmd: ["sh"]),
                                                   rootfs: .init(diffIDs: layers))
        let config = try store.putBlob(OCIImage.encode(configuration))
        let descriptors = try layers.map { OCIImage.Descriptor(mediaType: OCIImage.MediaType.layer, digest: $0, size: try size(of: $0)) }
        let manifest = try OCIImage.encode(OCIImage.Manifest(
            config: .init(mediaType: OCIImage.MediaType.config, digest: config.digest, size: config.size), layers: descriptors))
        var image: Image?
        for name in names { image = try await store.register(name, manifest: manifest) }
        return try #require(image)
    }

    private func size(of blob: ContentDigest) throws -> Int64 {
        (try FileManager.default.attributesOfItem(atPath: store.blobPath(blob))[.size] as? NSNumber)?.int64Value ?? 0
    }
}

private func withStore(_ body: (ImageStore, ImageBuilder) async throws -> Void) async throws {
    let dir = NSTemporaryDirectory() + "orca-image-gc-test-\(uniqueSuffix())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store = try ImageStore(root: dir)
    try await body(store, ImageBuilder(store: store))
}

@Suite struct ImageGarbageCollectorTests {
    @Test func pruneKeepsUsedAndBuiltinImagesAndRemovesTheRestWithOrphans() async throws {
        try await withStore { store, build in
            let busybox = try await BuiltinImages.ensureBusybox(in: store)
            let base = try await build.layer(["etc/base": "shared"])
            let used = try await build.image(["test/used:1", "test/used:alias"], layers: [base, try await build.layer(["etc/used": "u"])])
            let unusedLayer = try await build.layer(["etc/unused": "x"])
            let unused = try await build.image(["test/unused:1"], layers: [base, unusedLayer])
            let other = try await build.image(["test/other:1", "test/other:2"], layers: [try await build.layer(["etc/other": "o"])])

            // Left by an interrupted pull: a blob, a snapshot, unpack staging and a download in tmp/.
            let orphanBlob = try store.putBlob(Data("orphan".utf8)).digest
            let orphanSnapshot = store.snapshotPath(ContentDigest.sha256(of: Data("orphan layer".utf8)))
            try FileManager.default.createDirectory(atPath: "\(orphanSnapshot)/etc", withIntermediateDirectories: true)
            let unpackStaging = "\(store.root)/layers/sha256/.tmp-0123456789ab-x"
            try FileManager.default.createDirectory(atPath: unpackStaging, withIntermediateDirectories: true)
            let download = store.stagingPath("pull-0123456789ab")
            #expect(FileManager.default.createFile(atPath: download, contents: Data("partial".utf8)))
            let orphans = [store.blobPath(orphanBlob), orphanSnapshot, unpackStaging, download]

            // A stopped container of `used` (its record counts as much as a running one's).
            let runtime = ListedContainers(layers: [used.layers])
            let removed = try await ImageGarbageCollector(store: store, runtime: runtime).prune()
            #expect(removed == ["docker.io/test/other:1", "docker.io/test/other:2", "docker.io/test/unused:1"])
            #expect(try store.list().map(\.name) == BuiltinImages.busyboxNames + ["docker.io/test/used:1", "docker.io/test/used:alias"])
            #expect(try store.image("test/used:1")?.layers == used.layers)
            #expect(try store.image(busybox.id.description) != nil)
            // The layer `used` shares with the removed image survives; the removed ones' own content is gone.
            #expect(Syscall.exists(store.snapshotPath(base)) && store.hasBlob(base))
            #expect(!Syscall.exists(store.snapshotPath(unusedLayer)) && !store.hasBlob(unusedLayer))
            #expect(!store.hasBlob(unused.manifestDigest) && !store.hasBlob(other.id))
            #expect(other.layers.allSatisfy { !Syscall.exists($0) })
            // Orphans younger than the grace period (a pull may be in flight) are left alone...
            #expect(orphans.allSatisfy(Syscall.exists))

            // ...and removed once older; nothing a named image references goes with them.
            let later = ImageGarbageCollector(store: store, runtime: runtime, clock: { Date().addingTimeInterval(7200) })
            #expect(try await later.prune() == [])
            #expect(orphans.allSatisfy { !Syscall.exists($0) })
            for image in try store.list() {
                #expect(store.hasBlob(image.manifestDigest) && store.hasBlob(image.id))
                #expect(image.layers.allSatisfy(Syscall.exists))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: store.stagingDirectory).isEmpty)
        }
    }

    /// A container keeps its layers even when the image it was made from lost its name (re-tagged
    /// by a newer pull): the old manifest's blobs are orphans, its snapshots are not.
    @Test func layersContainersUseSurviveRetagging() async throws {
        try await withStore { store, build in
            let oldLayer = try await build.layer(["etc/version": "1"])
            let old = try await build.image(["test/app:latest"], layers: [oldLayer])
            let new = try await build.image(["test/app:latest"], layers: [try await build.layer(["etc/version": "2"])])
            #expect(try store.image("test/app:latest")?.manifestDigest == new.manifestDigest)
            let runtime = ListedContainers(layers: [old.layers])
            let collector = ImageGarbageCollector(store: store, runtime: runtime, clock: { Date().addingTimeInterval(7200) })
            #expect(try await collector.prune() == ["docker.io/test/app:latest"])
            #expect(old.layers.allSatisfy(Syscall.exists))
            #expect(!store.hasBlob(old.manifestDigest) && !store.hasBlob(old.id))
            #expect(new.layers.allSatisfy { !Syscall.exists($0) })
            #expect(try store.list().isEmpty)
        }
    }

    @Test func lastUsedIsTheMarkedTime() async throws {
        try await withStore { store, build in
            let image = try await build.image(["test/a:1"], layers: [try await build.layer(["a": "a"])])
            let stored = try #require(store.lastUsed(image))
            #expect(abs(stored.timeIntervalSinceNow) < 3600)
            let marked = Date(timeIntervalSince1970: 1_700_000_000.25)
            try store.markUsed(image, at: marked)
            #expect(abs(try #require(store.lastUsed(image)).timeIntervalSince(marked)) < 0.001)
        }
    }

    /// Disk use is simulated as 600 + 50 per image in the store, of 1000: with the six images
    /// below that is 90 %, over the 85 % mark; freeing down to 80 % takes two images.
    @Test func collectIfNeededRemovesLeastRecentlyUsedUntilBelowTheLowMark() async throws {
        try await withStore { store, build in
            try await BuiltinImages.ensureBusybox(in: store)
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let base = try await build.layer(["etc/base": "shared"])
            let used = try await build.image(["test/used:1"], layers: [base, try await build.layer(["u": "u"])])
            // Names sort opposite to age, so the order removed is by last use, not by name.
            let oldest = try await build.image(["test/z-oldest:1", "test/z-oldest:2"], layers: [base, try await build.layer(["z": "z"])])
            let older = try await build.image(["test/y-older:1"], layers: [try await build.layer(["y": "y"])])
            let old = try await build.image(["test/x-old:1"], layers: [try await build.layer(["x": "x"])])
            let recent = try await build.image(["test/a-recent:1"], layers: [try await build.layer(["r": "r"])])
            try store.markUsed(used, at: now.addingTimeInterval(-86400))
            try store.markUsed(oldest, at: now.addingTimeInterval(-3 * 3600))
            try store.markUsed(older, at: now.addingTimeInterval(-2 * 3600))
            try store.markUsed(old, at: now.addingTimeInterval(-3600))
            try store.markUsed(recent, at: now.addingTimeInterval(-30))  // within the minimum age

            let disk: @Sendable () throws -> (used: Int64, capacity: Int64) = {
                 (600 + 50 * Int64(Set(try store.list().map(\.manifestDigest)).count), 1000)
            }
            let runtime = ListedContainers(layers: [used.layers])
            let collector = ImageGarbageCollector(store: store, runtime: runtime, diskUsage: disk, clock: { now })

            // Below the high mark (90 % < 91 %): nothing happens.
            let idle = ImageGarbageCollector(store: store, runtime: runtime, highThresholdPercent: 91, lowThresholdPercent: 50,
                                             diskUsage: disk, clock: { now })
            #expect(try await idle.collectIfNeeded() == [])
            #expect(try store.list().count == 8)

            #expect(try await collector.collectIfNeeded() == ["docker.io/test/z-oldest:1", "docker.io/test/z-oldest:2", "docker.io/test/y-older:1"])
            #expect(try Set(store.list().map(\.manifestDigest)) == [used.manifestDigest, old.manifestDigest, recent.manifestDigest,
                                                                     try #require(try store.image("busybox")).manifestDigest])
            #expect(Syscall.exists(store.snapshotPath(base)))
            #expect(oldest.layers.dropFirst().allSatisfy { !Syscall.exists($0) })
            // Now at 80 %: below the high mark, nothing more goes.
            #expect(try await collector.collectIfNeeded() == [])

            // Over the mark with only the recent, the used and the built-in image left to weigh:
            // the old one goes, the recent one (used within the minimum age) stays, and it stops there.
            let tight = ImageGarbageCollector(store: store, runtime: runtime, highThresholdPercent: 10, lowThresholdPercent: 5,
                                              diskUsage: disk, clock: { now })
            #expect(try await tight.collectIfNeeded() == ["docker.io/test/x-old:1"])
            #expect(try store.image("test/a-recent:1") != nil && store.image("test/used:1") != nil && store.image("busybox") != nil)

            let invalid = ImageGarbageCollector(store: store, runtime: runtime, highThresholdPercent: 50, lowThresholdPercent: 60, diskUsage: disk)
            await #expect(throws: OrcaError.self) { try await invalid.collectIfNeeded() }
        }
    }
}
