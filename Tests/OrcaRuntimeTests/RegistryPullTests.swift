import Foundation
import Glibc
import OrcaCore
import Synchronization
import Testing
@testable import OrcaRuntime

/// Pulls from a real `docker-registry` on loopback, with images pushed by skopeo.
@Suite(.serialized)
struct RegistryPullTests {
    let appConfig = ImageConfig(env: [BuiltinImages.defaultPath, "GREETING=hello"], cmd: ["/bin/busybox", "echo", "hi"])

    /// A temporary directory for layouts, removed after `body`.
    func withWorkDirectory(_ body: (String) async throws -> Void) async throws {
        let dir = NSTemporaryDirectory() + "orca-registry-images-\(uniqueSuffix())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body(dir)
    }

    @Test func anonymousPullFromAnInsecureRegistry() async throws {
        try await withWorkDirectory { work in
            let layout = try TestImageLayout(directory: "\(work)/app")
            let layer = try await layout.layer(["etc/motd": "welcome\n"], copies: ["bin/busybox": "/bin/busybox"])
            let manifest = try layout.image([layer], config: appConfig)
            try layout.tag([("v1", manifest)])
            try await TestRegistry.run { registry in
                try await registry.push(layout.directory, tag: "v1", to: "test/app")
                try await registry.withPuller { puller, store in
                    let seen = Mutex<[RegistryProgress]>([])
                    let outcome = try await puller.pullWithOutcome("\(registry.host)/test/app:v1") { p in
                        seen.withLock { $0.append(p) }
                    }
                    let image = outcome.image
                    #expect(image.name == "\(registry.host)/test/app:v1")
                    #expect(image.manifestDigest == manifest.digest)
                    #expect(image.config.env == appConfig.env)
                    #expect(image.config.cmd == appConfig.cmd)
                    #expect(image.architecture == "amd64" && image.os == "linux")
                    #expect(image.layers == [store.snapshotPath(layer.diffID)])
                    let root = try #require(image.layers.first)
                    #expect(FileManager.default.isExecutableFile(atPath: "\(root)/bin/busybox"))
                    #expect(try String(contentsOfFile: "\(root)/etc/motd", encoding: .utf8) == "welcome\n")
                    #expect(store.hasBlob(layer.descriptor.digest))
                    #expect(try store.image("\(registry.host)/test/app:v1")?.id == image.id)

                    let result = outcome.result
                    #expect(result.blobsDownloaded == 2 && result.blobsSkipped == 0)
                    #expect(result.size == image.size)
                    #expect(result.downloadedBytes == result.size)
                    let last = try #require(seen.withLock { $0.last })
                    #expect(last.completedBytes == result.size && last.totalBytes == result.size)
                    #expect(try FileManager.default.contentsOfDirectory(atPath: store.stagingDirectory).isEmpty)

                    // By digest: registered under the digest name, nothing downloaded again.
                    let byDigest = try await puller.pullWithOutcome("\(registry.host)/test/app@\(manifest.digest)")
                    #expect(byDigest.image.manifestDigest == manifest.digest)
                    #expect(byDigest.result.blobsDownloaded == 0)
                    #expect(try store.list().map(\.name).contains("\(registry.host)/test/app@\(manifest.digest)"))

                    // A tag that is not there.
                    let missing = await #expect(throws: OrcaError.self) {
                        try await puller.pull("\(registry.host)/test/app:v2")
                    }
                    #expect(missing?.code == .notFound)
                }
            }
        }
    }

    @Test func multiArchIndexResolvesToAMD64() async throws {
        try await withWorkDirectory { work in
            let layout = try TestImageLayout(directory: "\(work)/multi")
            let amd = try layout.image([try await layout.layer(["etc/arch": "amd64\n"])], config: appConfig, architecture: "amd64")
            let arm = try layout.image([try await layout.layer(["etc/arch": "arm64\n"])], config: appConfig, architecture: "arm64")
            let index = try layout.index([arm, amd])
            let armOnly = try layout.index([arm])
            try layout.tag([("v1", index), ("arm", armOnly)])
            try await TestRegistry.run { registry in
                try await registry.push(layout.directory, tag: "v1", to: "test/multi", all: true)
                try await registry.push(layout.directory, tag: "arm", to: "test/multi", all: true)
                try await registry.withPuller { puller, store in
                    let outcome = try await puller.pullWithOutcome("\(registry.host)/test/multi:v1")
                    #expect(outcome.image.architecture == "amd64")
                    #expect(outcome.image.manifestDigest == amd.digest)
                    #expect(outcome.result.indexDigest == index.digest)
                    let root = try #require(outcome.image.layers.first)
                    #expect(try String(contentsOfFile: "\(root)/etc/arch", encoding: .utf8) == "amd64\n")

                    // Pinned to the index's digest: the name finds the amd64 image.
                    let pinned = try await puller.pull("\(registry.host)/test/multi@\(index.digest)")
                    #expect(pinned.manifestDigest == amd.digest)
                    #expect(try store.image("\(registry.host)/test/multi@\(index.digest)")?.manifestDigest == amd.digest)

                    let error = await #expect(throws: OrcaError.self) {
                        try await puller.pull("\(registry.host)/test/multi:arm")
                    }
                    #expect(error?.code == .imagePullFailed)
                    #expect(error?.message.contains("no image for linux/amd64") == true)
                }
            }
        }
    }

    @Test func zstdLayersArePulledAndUnpacked() async throws {
        try await withWorkDirectory { work in
            let (layout, manifest) = try await TestImageLayout.simple(
                in: "\(work)/zstd", tag: "v1", name: "zstd-file", config: appConfig, compression: .zstd)
            try await TestRegistry.run { registry in
                try await registry.push(layout.directory, tag: "v1", to: "test/zstd")
                try await registry.withPuller { puller, store in
                    let image = try await puller.pull("\(registry.host)/test/zstd:v1")
                    #expect(image.manifestDigest == manifest.digest)
                    let stored = try JSONDecoder().decode(OCIImage.Manifest.self, from: store.readBlob(image.manifestDigest))
                    #expect(stored.layers.map(\.mediaType) == [OCIImage.MediaType.layerZstd])
                    let root = try #require(image.layers.first)
                    #expect(try String(contentsOfFile: "\(root)/etc/zstd-file", encoding: .utf8) == "zstd-file\n")
                }
            }
        }
    }

    @Test func aTamperedBlobIsRefusedAndNotStored() async throws {
        try await withWorkDirectory { work in
            let layout = try TestImageLayout(directory: "\(work)/tampered")
            let layer = try await layout.layer(["etc/data": String(repeating: "payload ", count: 4096)], compression: .none)
            let manifest = try layout.image([layer], config: appConfig)
            try layout.tag([("v1", manifest)])
            try await TestRegistry.run { registry in
                try await registry.push(layout.directory, tag: "v1", to: "test/tampered")
                // Same size, one byte changed, in the registry's own storage.
                let path = registry.blobDataPath(layer.descriptor.digest)
                var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                bytes[bytes.count / 2] ^= 0xFF
                try bytes.write(to: URL(fileURLWithPath: path))

                try await registry.withPuller { (puller: ImagePuller, store: ImageStore) async throws in
                    let error = await #expect(throws: OrcaError.self) {
                        try await puller.pull("\(registry.host)/test/tampered:v1")
                    }
                    #expect(error?.code == .digestMismatch)
                    #expect(!store.hasBlob(layer.descriptor.digest))
                    #expect(try store.image("\(registry.host)/test/tampered:v1") == nil)
                    #expect(!Syscall.exists(store.snapshotPath(layer.diffID)))
                    #expect(try FileManager.default.contentsOfDirectory(atPath: store.stagingDirectory).isEmpty)
                }
            }
        }
    }

    @Test func imagesSharingABaseLayerStoreItOnce() async throws {
        try await withWorkDirectory { work in
            let layout = try TestImageLayout(directory: "\(work)/shared")
            let base = try await layout.layer(["etc/base": "base\n"], copies: ["bin/busybox": "/bin/busybox"])
            let one = try layout.image([base, try await layout.layer(["etc/app": "one\n"])], config: appConfig)
            let two = try layout.image([base, try await layout.layer(["etc/app": "two\n"])], config: appConfig)
            try layout.tag([("one", one), ("two", two)])
            try await TestRegistry.run { registry in
                try await registry.push(layout.directory, tag: "one", to: "test/one")
                try await registry.push(layout.directory, tag: "two", to: "test/two")
                try await registry.withPuller { puller, store in
                    let first = try await puller.pullWithOutcome("\(registry.host)/test/one:one")
                    let second = try await puller.pullWithOutcome("\(registry.host)/test/two:two")
                    #expect(first.result.blobsDownloaded == 3)
                    #expect(second.result.blobsDownloaded == 2 && second.result.blobsSkipped == 1)
                    #expect(registry.requests("/v2/test/two/blobs/\(base.descriptor.digest)") == 0)
                    #expect(first.image.layers[0] == second.image.layers[0])
                    #expect(first.image.layers[1] != second.image.layers[1])
                    let snapshots = try FileManager.default.contentsOfDirectory(atPath: "\(store.root)/layers/sha256")
                    #expect(snapshots.count == 3)
                    // Removing one image keeps the shared layer for the other.
                    #expect(try store.remove("\(registry.host)/test/one:one"))
                    #expect(store.hasBlob(base.descriptor.digest))
                    #expect(Syscall.exists(second.image.layers[0]))
                    #expect(!Syscall.exists(first.image.layers[1]))
                }
            }
        }
    }

    @Test func concurrentPullsOfOneImageShareOneDownload() async throws {
        try await withWorkDirectory { work in
            let layout = try TestImageLayout(directory: "\(work)/dedup")
            let layer = try await layout.layer(["etc/dedup": "x\n"], copies: ["bin/busybox": "/bin/busybox"])
            try layout.tag([("v1", try layout.image([layer], config: appConfig))])
            try await TestRegistry.run { registry in
                try await registry.push(layout.directory, tag: "v1", to: "test/dedup")
                try await registry.withPuller { puller, _ in
                    async let a = puller.pull("\(registry.host)/test/dedup:v1")
                    async let b = puller.pull("\(registry.host)/test/dedup:v1")
                    async let c = puller.pull("\(registry.host)/test/dedup")  // :latest, a different reference
                    let (first, second) = try await (a, b)
                    #expect(first.manifestDigest == second.manifestDigest)
                    _ = try? await c
                    #expect(await puller.registryPulls == 2)
                    #expect(registry.requests("/v2/test/dedup/manifests/v1") == 1)
                    #expect(registry.requests("/v2/test/dedup/blobs/\(layer.descriptor.digest)") == 1)
                }
            }
        }
    }
}
