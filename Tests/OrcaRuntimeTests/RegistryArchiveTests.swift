import Foundation
import OrcaCore
import Testing
@testable import OrcaRuntime

/// `ImageArchive.import` of `docker save` and OCI layout tarballs (made by skopeo and by hand).
@Suite struct RegistryArchiveTests {
    let config = ImageConfig(env: ["A=1"], cmd: ["/bin/sh", "-c", "true"])

    /// A work directory and a store, both removed after `body`.
    func withStore(_ body: (String, ImageStore) async throws -> Void) async throws {
        let dir = NSTemporaryDirectory() + "orca-archive-test-\(uniqueSuffix())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body("\(dir)/work", try ImageStore(root: "\(dir)/store"))
    }

    func tar(_ directory: String, to file: String) async throws {
        try await SubprocessCommandRunner().checked("/bin/tar", ["--create", "--file", file, "--directory", directory, "."])
    }

    @Test
    func dockerSaveArchiveFromSkopeo() async throws {
        try await withStore { work, store in
            let (layout, _) = try await TestImageLayout.simple(in: "\(work)/layout", tag: "v1", name: "saved", config: config)
            let archive = "\(work)/saved.tar"
            try await SubprocessCommandRunner().checked(TestRegistry.skopeoPath, [
                "copy", "--quiet", "oci:\(layout.directory):v1", "docker-archive:\(archive):test/saved:v1",
            ], environment: ["PATH": "/usr/bin:/bin", "HOME": work])
            let images = try await ImageArchive.import(fileAt: archive, into: store)
            #expect(images.map(\.name) == ["docker.io/test/saved:v1"])
            let image = try #require(try store.image("test/saved:v1"))
            #expect(image.config.env == ["A=1"] && image.config.cmd == config.cmd)
            #expect(try String(contentsOfFile: "\(image.layers[0])/etc/saved", encoding: .utf8) == "saved\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: store.stagingDirectory).isEmpty)
        }
    }

    /// The classic layout: `<id>/layer.tar` (here gzipped, as some tools write it) and `<hex>.json`.
    @Test func handMadeDockerSaveArchiveWithAGzippedLayer() async throws {
        try await withStore { work, store in
            let layout = try TestImageLayout(directory: "\(work)/layout")
            let layer = try await layout.layer(["etc/classic": "classic\n"], compression: .gzip)
            let configuration = OCIImage.Configuration(architecture: "amd64", config: config, rootfs: .init(diffIDs: [layer.diffID]))
            let configData = try OCIImage.encode(configuration)
            let configHex = ContentDigest.sha256(of: configData).hex
            let root = "\(work)/save"
            try FileManager.default.createDirectory(atPath: "\(root)/abc123", withIntermediateDirectories: true)
            try configData.write(to: URL(fileURLWithPath: "\(root)/\(configHex).json"))
            try FileManager.default.copyItem(atPath: "\(layout.directory)/blobs/sha256/\(layer.descriptor.digest.hex)", toPath: "\(root)/abc123/layer.tar")
            let manifest = #"[{"Config":"\#(configHex).json","RepoTags":["example.com/classic:1","classic:latest"],"Layers":["abc123/layer.tar"]}]"#
            try Data(manifest.utf8).write(to: URL(fileURLWithPath: "\(root)/manifest.json"))
            try await tar(root, to: "\(work)/classic.tar")

            let images = try await ImageArchive.import(fileAt: "\(work)/classic.tar", into: store)
            #expect(images.map(\.name) == ["example.com/classic:1", "docker.io/library/classic:latest"])
            #expect(images[0].manifestDigest == images[1].manifestDigest)
            #expect(images[0].id.hex == configHex)
            let stored = try JSONDecoder().decode(OCIImage.Manifest.self, from: store.readBlob(images[0].manifestDigest))
            #expect(stored.layers.map(\.mediaType) == [OCIImage.MediaType.layerGzip])
            #expect(stored.layers.map(\.digest) == [layer.descriptor.digest])
            #expect(try String(contentsOfFile: "\(images[0].layers[0])/etc/classic", encoding: .utf8) == "classic\n")
        }
    }

    @Test
    func ociArchiveFromSkopeo() async throws {
        try await withStore { work, store in
            let (layout, manifest) = try await TestImageLayout.simple(in: "\(work)/layout", tag: "v1", name: "oci", config: config)
            let archive = "\(work)/oci.tar"
            try await SubprocessCommandRunner().checked(TestRegistry.skopeoPath, [
                "copy", "--quiet", "oci:\(layout.directory):v1", "oci-archive:\(archive):quay.io/test/oci:v2",
            ], environment: ["PATH": "/usr/bin:/bin", "HOME": work])
            let images = try await ImageArchive.import(fileAt: archive, into: store)
            #expect(images.map(\.name) == ["quay.io/test/oci:v2"])
            #expect(images.first?.manifestDigest == manifest.digest)
            #expect(try String(contentsOfFile: "\(images[0].layers[0])/etc/oci", encoding: .utf8) == "oci\n")
        }
    }

    /// A compressed layout tarball with a multi-arch index named by containerd's annotation, and
    /// a bare-tag entry named with `repository`.
    @Test func ociLayoutWithAnIndexResolvesToAMD64() async throws {
        try await withStore { work, store in
            let layout = try TestImageLayout(directory: "\(work)/layout")
            let amd = try layout.image([try await layout.layer(["etc/arch": "amd64\n"])], config: config, architecture: "amd64")
            let arm = try layout.image([try await layout.layer(["etc/arch": "arm64\n"])], config: config, architecture: "arm64")
            var index = try layout.index([arm, amd])
            index.annotations = ["io.containerd.image.name": "docker.io/test/multi:1", "org.opencontainers.image.ref.name": "1"]
            var bare = amd
            bare.platform = nil
            bare.annotations = ["org.opencontainers.image.ref.name": "bare"]
            try OCIImage.encode(OCIImage.Index(manifests: [index, bare]))
                .write(to: URL(fileURLWithPath: "\(layout.directory)/index.json"))
            try await tar(layout.directory, to: "\(work)/multi.tar")
            try await SubprocessCommandRunner().checked("/bin/gzip", ["-n", "\(work)/multi.tar"])

            await #expect(throws: OrcaError.self) { try await ImageArchive.import(fileAt: "\(work)/multi.tar.gz", into: store) }
            let images = try await ImageArchive.import(fileAt: "\(work)/multi.tar.gz", into: store, repository: "test/multi")
            #expect(images.map(\.name) == ["docker.io/test/multi:1", "docker.io/test/multi:bare"])
            #expect(images.allSatisfy { $0.manifestDigest == amd.digest && $0.architecture == "amd64" })
            #expect(try String(contentsOfFile: "\(images[0].layers[0])/etc/arch", encoding: .utf8) == "amd64\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: store.stagingDirectory).isEmpty)
        }
    }

    @Test func aCorruptBlobInALayoutIsRefused() async throws {
        try await withStore { work, store in
            let (layout, manifest) = try await TestImageLayout.simple(
                in: "\(work)/layout", tag: "test/bad:v1", name: "bad", config: config, compression: .none)
            let m = try JSONDecoder().decode(OCIImage.Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(layout.directory)/blobs/sha256/\(manifest.digest.hex)")))
            let layerPath = "\(layout.directory)/blobs/sha256/\(m.layers[0].digest.hex)"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: layerPath))
            bytes[bytes.count / 3] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: layerPath))
            try await tar(layout.directory, to: "\(work)/bad.tar")

            let error = await #expect(throws: OrcaError.self) { try await ImageArchive.import(fileAt: "\(work)/bad.tar", into: store) }
            #expect(error?.code == .digestMismatch)
            #expect(!store.hasBlob(m.layers[0].digest))
            #expect(try store.list().isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: store.stagingDirectory).isEmpty)
            await #expect(throws: OrcaError.self) { try await ImageArchive.import(fileAt: "\(work)/missing.tar", into: store) }
        }
    }
}
