import Foundation
import Glibc
import OrcaCore
import Testing
@testable import OrcaRuntime

/// Layers that try to poison other images: a diff ID that lies, whiteouts that escape their
/// directory, a layer that would fill the disk.
@Suite struct HostileLayerTests {
    /// A store in a fresh directory with a scratch directory for building layers.
    private func withStore(diskHighThresholdPercent: Int = 85, _ body: (ImageStore, String) async throws -> Void) async throws {
        let dir = NSTemporaryDirectory() + "orca-hostile-layer-\(uniqueSuffix())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ImageStore(root: "\(dir)/store", diskHighThresholdPercent: diskHighThresholdPercent)
        let work = "\(dir)/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try await body(store, work)
    }

    /// A gzip layer of `files` (relative path → content) built with tar; returns its blob and diff ID.
    private func layer(_ files: [String: String], in work: String, name: String, store: ImageStore) async throws -> (blob: ContentDigest, diffID: ContentDigest, size: Int64) {
        let dir = "\(work)/\(name)"
        for (path, content) in files {
            // Not NSString.deletingLastPathComponent: Foundation traps on names like ".wh..".
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            try FileManager.default.createDirectory(atPath: "\(dir)/\(parent)", withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: "\(dir)/\(path)", contents: Data(content.utf8)))
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let runner = SubprocessCommandRunner()
        try await runner.checked("/bin/tar", ["-cf", "\(work)/\(name).tar", "-C", dir, "."])
        let diffID = try ContentDigest.sha256(ofFileAt: "\(work)/\(name).tar").digest
        try await runner.checked("/bin/gzip", ["-n", "\(work)/\(name).tar"])
        let stored = try store.putBlob(movingFileAt: "\(work)/\(name).tar.gz")
        return (stored.digest, diffID, stored.size)
    }

    private func register(_ store: ImageStore, _ name: String, layers: [(blob: ContentDigest, diffID: ContentDigest, size: Int64)]) async throws -> Image {
        let configuration = OCIImage.Configuration(
            architecture: OCIImage.hostArchitecture, config: ImageConfig(cmd: ["sh"]),
            rootfs: .init(diffIDs: layers.map(\.diffID)))
        let config = try store.putBlob(OCIImage.encode(configuration))
        let manifest = OCIImage.Manifest(
            config: .init(mediaType: OCIImage.MediaType.config, digest: config.digest, size: config.size),
            layers: layers.map { .init(mediaType: OCIImage.MediaType.layerGzip, digest: $0.blob, size: $0.size) })
        return try await store.register(name, manifest: OCIImage.encode(manifest))
    }

    @Test func aLayerClaimingAnotherLayersDiffIDIsRefusedAndNothingIsKept() async throws {
        try await withStore { store, work in
            let honest = try await layer(["bin/tool": "honest"], in: work, name: "honest", store: store)
            let evil = try await layer(["bin/tool": "evil"], in: work, name: "evil", store: store)
            // The evil image claims the honest layer's diff ID before the honest image is pulled.
            let spoofed = (blob: evil.blob, diffID: honest.diffID, size: evil.size)
            await #expect {
                try await register(store, "test/evil:1", layers: [spoofed])
            } throws: { error in
                "\(error)".contains("wrong diff id calculated on extraction")
            }
            #expect(!Syscall.exists(store.snapshotPath(honest.diffID)))
            let staging = try FileManager.default.contentsOfDirectory(atPath: "\(store.root)/layers/sha256")
            #expect(staging.isEmpty, "left behind: \(staging)")
            // The honest image then unpacks its own content.
            let image = try await register(store, "test/honest:1", layers: [honest])
            #expect(try String(contentsOfFile: "\(image.layers[0])/bin/tool", encoding: .utf8) == "honest")
        }
    }

    @Test func aSnapshotWithoutTheVerifiedMarkerIsUnpackedAnew() async throws {
        try await withStore { store, work in
            let honest = try await layer(["bin/tool": "honest"], in: work, name: "honest", store: store)
            // A snapshot planted (or left by an older version) under the honest diff ID.
            let planted = store.snapshotPath(honest.diffID)
            try FileManager.default.createDirectory(atPath: "\(planted)/bin", withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: "\(planted)/bin/tool", contents: Data("planted".utf8)))
            let image = try await register(store, "test/honest:1", layers: [honest])
            #expect(try String(contentsOfFile: "\(image.layers[0])/bin/tool", encoding: .utf8) == "honest")
            // The unverified one is moved aside (a running container may still use it), not deleted.
            let aside = try FileManager.default.contentsOfDirectory(atPath: "\(store.root)/layers/unverified")
            #expect(aside.count == 1 && aside[0].hasPrefix(honest.diffID.hex))
            #expect(try String(contentsOfFile: "\(store.root)/layers/unverified/\(aside[0])/bin/tool", encoding: .utf8) == "planted")
        }
    }

    @Test(arguments: [".wh..", ".wh...", ".wh....", "sub/.wh.."])
    func escapingWhiteoutsAreRefused(_ whiteout: String) async throws {
        try await withStore { store, work in
            let victim = try await layer(["keep/file": "victim"], in: work, name: "victim", store: store)
            let victimImage = try await register(store, "test/victim:1", layers: [victim])
            let hostile = try await layer([whiteout: "", "x": "y"], in: work, name: "hostile", store: store)
            await #expect {
                try await register(store, "test/hostile:1", layers: [hostile])
            } throws: { error in
                "\(error)".contains("whiteout")
            }
            // The other image's layer and the store's directories are untouched.
            #expect(try String(contentsOfFile: "\(victimImage.layers[0])/keep/file", encoding: .utf8) == "victim")
            #expect(Syscall.exists("\(store.root)/layers/sha256"))
            #expect(!Syscall.exists(store.snapshotPath(hostile.diffID)))
        }
    }

    @Test func unpackingStopsAtTheDiskThresholdAndRemovesWhatItWrote() async throws {
        // A threshold of 0 %: any disk use is past it, so the guard stops the first check.
        try await withStore(diskHighThresholdPercent: 0) { store, work in
            // Incompressible content bigger than one check interval (32 MiB uncompressed).
            let big = "\(work)/big"
            try FileManager.default.createDirectory(atPath: big, withIntermediateDirectories: true)
            let random = FileHandle(forReadingAtPath: "/dev/urandom")!
            FileManager.default.createFile(atPath: "\(big)/data", contents: try random.read(upToCount: 40 << 20))
            try random.close()
            let runner = SubprocessCommandRunner()
            try await runner.checked("/bin/tar", ["-cf", "\(work)/big.tar", "-C", big, "."])
            let diffID = try ContentDigest.sha256(ofFileAt: "\(work)/big.tar").digest
            let blob = try store.putBlob(movingFileAt: "\(work)/big.tar")
            await #expect {
                try await store.unpackLayer(blob: blob.digest, mediaType: OCIImage.MediaType.layer, diffID: diffID)
            } throws: { error in
                (error as? OrcaError)?.code == .insufficientStorage
            }
            #expect(!Syscall.exists(store.snapshotPath(diffID)))
            let left = try FileManager.default.contentsOfDirectory(atPath: "\(store.root)/layers/sha256")
            #expect(left.isEmpty, "left behind: \(left)")
        }
    }

    @Test func theStoreIsPrivateToRoot() async throws {
        try await withStore { store, _ in
            let st = try #require(Syscall.lstat(store.root))
            #expect(st.st_mode & 0o777 == 0o700)
        }
    }

    @Test(arguments: ["", ".", "..", "...", "a/b", "..x"])
    func unsafeWhiteoutTargets(_ name: String) {
        #expect(!ImageStore.isSafeWhiteoutTarget(name))
    }

    @Test(arguments: ["file", ".hidden", "a.b", "wh"])
    func safeWhiteoutTargets(_ name: String) {
        #expect(ImageStore.isSafeWhiteoutTarget(name))
    }
}
