import Foundation
import Glibc
import OrcaCore
import Testing
@testable import OrcaRuntime

/// A store in a fresh temporary directory, removed afterwards (also when the body throws).
private func withStore(_ body: (ImageStore) async throws -> Void) async throws {
    let dir = NSTemporaryDirectory() + "orca-image-test-\(uniqueSuffix())"
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try await body(try ImageStore(root: dir))
}

@Suite struct ImageStoreTests {
    @Test func busyboxIsBuiltWithCorrectDigests() async throws {
        try await withStore { store in
            let built = try await BuiltinImages.ensureBusybox(in: store)
            let image = try #require(try store.image("busybox"))
            #expect(image.name == "docker.io/library/busybox:latest")
            #expect(image.repoTags == BuiltinImages.busyboxNames)
            #expect(image.manifestDigest == built.manifestDigest)

            // Every digest is the SHA-256 of the stored bytes.
            #expect(try ContentDigest.sha256(ofFileAt: store.blobPath(image.manifestDigest)).digest == image.manifestDigest)
            let manifest = try JSONDecoder().decode(OCIImage.Manifest.self, from: store.readBlob(image.manifestDigest))
            #expect(manifest.mediaType == OCIImage.MediaType.manifest)
            #expect(manifest.config.digest == image.id)
            #expect(manifest.config.mediaType == OCIImage.MediaType.config)
            let config = try ContentDigest.sha256(ofFileAt: store.blobPath(image.id))
            #expect(config.digest == image.id && config.size == manifest.config.size)
            let configuration = try JSONDecoder().decode(OCIImage.Configuration.self, from: store.readBlob(image.id))
            #expect(manifest.layers.count == 1)
            let layer = try ContentDigest.sha256(ofFileAt: store.blobPath(manifest.layers[0].digest))
            #expect(layer.digest == manifest.layers[0].digest && layer.size == manifest.layers[0].size)
            #expect(configuration.rootfs.diffIDs == [layer.digest])
            #expect(configuration.os == "linux")
            #expect(image.config.env == [BuiltinImages.defaultPath])
            #expect(image.config.cmd == ["sh"])

            // The same image by every kind of reference.
            #expect(try store.image("busybox:1.35")?.manifestDigest == image.manifestDigest)
            #expect(try store.image("docker.io/library/busybox:latest")?.id == image.id)
            #expect(try store.image(image.id.description)?.manifestDigest == image.manifestDigest)
            #expect(try store.image(image.id.hex)?.manifestDigest == image.manifestDigest)
            #expect(try store.image("busybox@\(image.manifestDigest)")?.id == image.id)
            #expect(try store.image("busybox:1.36") == nil)

            // The unpacked layer.
            let root = try #require(image.layers.first)
            #expect(image.layers == [store.snapshotPath(layer.digest)])
            #expect(FileManager.default.isExecutableFile(atPath: "\(root)/bin/busybox"))
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/bin/sh") == "busybox")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/bin/ls") == "busybox")
            let passwd = try String(contentsOfFile: "\(root)/etc/passwd", encoding: .utf8)
            #expect(passwd.contains("root:x:0:0:") && passwd.contains("nobody:x:65534:65534:"))
            #expect(try String(contentsOfFile: "\(root)/etc/group", encoding: .utf8).contains("nobody:x:65534:"))
            #expect((try #require(Syscall.lstat("\(root)/tmp")).st_mode & 0o7777) == 0o1777)

            // Idempotent, and reproducible in another store.
            #expect(try await BuiltinImages.ensureBusybox(in: store).manifestDigest == image.manifestDigest)
            try await withStore { (other: ImageStore) async throws in
                #expect(try await BuiltinImages.ensureBusybox(in: other).manifestDigest == image.manifestDigest)
            }
        }
    }

    @Test func listAndRemove() async throws {
        try await withStore { store in
            let image = try await BuiltinImages.ensureBusybox(in: store)
            #expect(try store.list().map(\.name) == BuiltinImages.busyboxNames)
            #expect(try store.remove("busybox"))
            #expect(try store.image("busybox") == nil)
            #expect(try store.image("busybox:1.35")?.id == image.id)
            #expect(store.hasBlob(image.manifestDigest))
            #expect(try store.remove("busybox:1.35"))
            #expect(try store.list().isEmpty)
            #expect(!store.hasBlob(image.manifestDigest))
            #expect(!store.hasBlob(image.id))
            #expect(image.layers.allSatisfy { !Syscall.exists($0) })
            #expect(try store.remove("busybox:1.35") == false)
            // By image ID removes every name.
            let again = try await BuiltinImages.ensureBusybox(in: store)
            #expect(try store.remove(again.id.description))
            #expect(try store.list().isEmpty)
        }
    }

    @Test func blobsAreCheckedAgainstTheirDigest() async throws {
        try await withStore { store in
            let data = Data("hello".utf8)
            let (digest, size) = try store.putBlob(data)
            #expect(digest.description == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
            #expect(size == 5)
            #expect(try store.readBlob(digest) == data)
            #expect(throws: OrcaError.self) { try store.putBlob(Data("other".utf8), expected: digest) }
            await #expect(throws: OrcaError.self) { try await store.register("x", manifest: Data("{}".utf8)) }
        }
    }

    /// Two layers, the lower gzip-compressed: the upper's whiteouts hide a file, a file in a
    /// directory and (opaque) a whole directory's lower contents once overlay-mounted.
    @Test(.enabled(if: runningAsRoot, "needs root: overlay mounts"))
    func whiteoutsHideLowerFilesInTheOverlay() async throws {
        try await withStore { store in
            let runner = SubprocessCommandRunner()
            let work = store.stagingPath("test")
            defer { try? FileManager.default.removeItem(atPath: work) }
            func tree(_ name: String, _ files: [String]) throws -> String {
                let dir = "\(work)/\(name)"
                for file in files {
                    try FileManager.default.createDirectory(atPath: "\(dir)/\((file as NSString).deletingLastPathComponent)", withIntermediateDirectories: true)
                    #expect(FileManager.default.createFile(atPath: "\(dir)/\(file)", contents: Data(file.utf8)))
                }
                return dir
            }
            let lower = try tree("lower", ["gone", "a/keep", "a/old", "o/lower"])
            let upper = try tree("upper", [".wh.gone", "a/.wh.old", "o/.wh..wh..opq", "o/upper"])
            try await runner.checked("/bin/tar", ["-cf", "\(work)/lower.tar", "-C", lower, "."])
            try await runner.checked("/bin/tar", ["-cf", "\(work)/upper.tar", "-C", upper, "."])
            let lowerDiffID = try ContentDigest.sha256(ofFileAt: "\(work)/lower.tar").digest
            try await runner.checked("/bin/gzip", ["-n", "\(work)/lower.tar"])
            let lowerBlob = try store.putBlob(movingFileAt: "\(work)/lower.tar.gz")
            let upperBlob = try store.putBlob(movingFileAt: "\(work)/upper.tar")
            let configuration = OCIImage.Configuration(
                architecture: OCIImage.hostArchitecture, config: ImageConfig(cmd: ["sh"]),
                rootfs: .init(diffIDs: [lowerDiffID, upperBlob.digest]))
            let config = try store.putBlob(OCIImage.encode(configuration))
            let manifest = OCIImage.Manifest(
                config: .init(mediaType: OCIImage.MediaType.config, digest: config.digest, size: config.size),
                layers: [.init(mediaType: OCIImage.MediaType.layerGzip, digest: lowerBlob.digest, size: lowerBlob.size),
                         .init(mediaType: OCIImage.MediaType.layer, digest: upperBlob.digest, size: upperBlob.size)])
            let image = try await store.register("test/whiteouts:1", manifest: OCIImage.encode(manifest))
            #expect(image.layers == [store.snapshotPath(lowerDiffID), store.snapshotPath(upperBlob.digest)])

            let whiteout = try #require(Syscall.lstat("\(image.layers[1])/gone"))
            #expect((whiteout.st_mode & S_IFMT) == S_IFCHR && whiteout.st_rdev == 0)
            #expect(!Syscall.exists("\(image.layers[1])/.wh.gone"))
            #expect(!Syscall.exists("\(image.layers[1])/o/.wh..wh..opq"))

            let target = "\(work)/mnt"
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            try Overlay(layers: image.layers, upperDir: "\(work)/rw/upper", workDir: "\(work)/rw/work").mount(on: target)
            defer { try? Overlay.unmount(target) }
            #expect(MountTable.isMountPoint(target))
            #expect(!Syscall.exists("\(target)/gone"))
            #expect(Syscall.exists("\(target)/a/keep"))
            #expect(!Syscall.exists("\(target)/a/old"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(target)/o") == ["upper"])
            try Overlay.unmount(target)
            #expect(!MountTable.isMountPoint(target))
        }
    }
}
