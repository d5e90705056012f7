import Foundation
import OrcaCore
@testable import OrcaRuntime

/// Builds OCI image layouts on disk for the registry and archive tests: layer tarballs made
/// from a few files (reproducibly: sorted, owner 0, mtime 0), configs, manifests and indexes.
struct TestImageLayout {
    enum Compression { case none, gzip, zstd }

    /// A layer blob in the layout, with what a manifest and config need.
    struct Layer {
        var descriptor: OCIImage.Descriptor
        var diffID: ContentDigest
    }

    /// The layout directory (`oci-layout`, `index.json`, `blobs/sha256/`).
    let directory: String
    private let runner = SubprocessCommandRunner()

    /// An empty layout at `directory`.
    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: "\(directory)/blobs/sha256", withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: "\(directory)/oci-layout"))
    }

    /// Stores `data` as a blob; returns its descriptor.
    @discardableResult
    func blob(_ data: Data, mediaType: String, platform: OCIImage.Platform? = nil) throws -> OCIImage.Descriptor {
        let digest = ContentDigest.sha256(of: data)
        try data.write(to: URL(fileURLWithPath: "\(directory)/blobs/sha256/\(digest.hex)"))
        return OCIImage.Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count), platform: platform)
    }

    /// A layer holding `files` (path → contents) and copies of host files (`copies`: path in
    /// layer → host path), compressed as asked.
    func layer(_ files: [String: String], copies: [String: String] = [:], compression: Compression = .gzip) async throws -> Layer {
        let work = "\(directory)/.work-\(uniqueSuffix())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(work)/root", withIntermediateDirectories: true)
        for (path, text) in files {
            try fm.createDirectory(atPath: "\(work)/root/\((path as NSString).deletingLastPathComponent)", withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: "\(work)/root/\(path)"))
        }
        for (path, source) in copies {
            try fm.createDirectory(atPath: "\(work)/root/\((path as NSString).deletingLastPathComponent)", withIntermediateDirectories: true)
            try fm.copyItem(atPath: source, toPath: "\(work)/root/\(path)")
        }
        try await runner.checked("/bin/tar", [
            "--create", "--file", "\(work)/layer.tar", "--directory", "\(work)/root",
            "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "--format=gnu", ".",
        ])
        let diffID = try ContentDigest.sha256(ofFileAt: "\(work)/layer.tar").digest
        let (file, mediaType): (String, String)
        switch compression {
        case .none:
            (file, mediaType) = ("\(work)/layer.tar", OCIImage.MediaType.layer)
        case .gzip:
            try await runner.checked("/bin/gzip", ["-n", "\(work)/layer.tar"])
            (file, mediaType) = ("\(work)/layer.tar.gz", OCIImage.MediaType.layerGzip)
        case .zstd:
            try await runner.checked("/usr/bin/zstd", ["-q", "--rm", "\(work)/layer.tar"])
            (file, mediaType) = ("\(work)/layer.tar.zst", OCIImage.MediaType.layerZstd)
        }
        let descriptor = try blob(Data(contentsOf: URL(fileURLWithPath: file)), mediaType: mediaType)
        return Layer(descriptor: descriptor, diffID: diffID)
    }

    /// An image config and manifest over `layers`; returns the manifest's descriptor.
    func image(_ layers: [Layer], config: ImageConfig, architecture: String = "amd64",
               manifestMediaType: String = OCIImage.MediaType.manifest) throws -> OCIImage.Descriptor {
        let configuration = OCIImage.Configuration(
            created: "1970-01-01T00:00:00Z", architecture: architecture, config: config,
            rootfs: OCIImage.RootFS(diffIDs: layers.map(\.diffID)))
        let configDescriptor = try blob(OCIImage.encode(configuration), mediaType: OCIImage.MediaType.config)
        let manifest = OCIImage.Manifest(mediaType: manifestMediaType, config: configDescriptor, layers: layers.map(\.descriptor))
        return try blob(OCIImage.encode(manifest), mediaType: manifestMediaType,
                        platform: OCIImage.Platform(architecture: architecture, os: "linux"))
    }

    /// An index over `manifests` (each with its platform); returns its descriptor.
    func index(_ manifests: [OCIImage.Descriptor]) throws -> OCIImage.Descriptor {
        try blob(OCIImage.encode(OCIImage.Index(manifests: manifests)), mediaType: OCIImage.MediaType.index)
    }

    /// Writes `index.json` naming each descriptor by its `org.opencontainers.image.ref.name`.
    func tag(_ entries: [(ref: String, descriptor: OCIImage.Descriptor)]) throws {
        let manifests = entries.map { entry -> OCIImage.Descriptor in
            var d = entry.descriptor
            d.platform = nil
            d.annotations = ["org.opencontainers.image.ref.name": entry.ref]
            return d
        }
        try OCIImage.encode(OCIImage.Index(mediaType: nil, manifests: manifests))
            .write(to: URL(fileURLWithPath: "\(directory)/index.json"))
    }

    /// A one-layer amd64 image tagged `tag` with a file `/etc/<name>` and the given config.
    static func simple(in directory: String, tag: String, name: String, config: ImageConfig,
                       compression: Compression = .gzip) async throws -> (TestImageLayout, OCIImage.Descriptor) {
        let layout = try TestImageLayout(directory: directory)
        let layer = try await layout.layer(["etc/\(name)": "\(name)\n"], compression: compression)
        let manifest = try layout.image([layer], config: config)
        try layout.tag([(tag, manifest)])
        return (layout, manifest)
    }
}
