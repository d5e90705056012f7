import Foundation
import OrcaCore
import OrcaRuntime

/// The image `orca bench image-pull` pulls, written as an OCI image layout: three gzip layers —
/// a busybox rootfs (the host's static busybox, `/bin/sh` linked to it, `/etc/passwd`) and two
/// layers each holding one file of random, incompressible bytes — an OCI config and manifest,
/// and `index.json` naming the manifest by `tag`.
struct BenchTestImage: Sendable {
    static let busyboxPath = "/bin/busybox"

    /// The layout directory (`oci-layout`, `index.json`, `blobs/sha256/`).
    var layout: String
    /// The tag in `index.json`.
    var tag: String
    /// The manifest's digest.
    var manifestDigest: ContentDigest
    /// Config and layer blobs in bytes, as stored and transferred (what a pull downloads besides the manifest).
    var transferBytes: Int64
    /// The layers' uncompressed sizes in bytes.
    var unpackedBytes: Int64
    /// How many layers the image has.
    var layerCount: Int

    /// Builds the image in `layout` (created), with `randomLayerBytes` in each data layer.
    static func build(in layout: String, tag: String, randomLayerBytes: Int) async throws -> BenchTestImage {
        let fm = FileManager.default
        try fm.createDirectory(atPath: layout + "/blobs/sha256", withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: layout + "/oci-layout"))
        let work = layout + "/.work"
        defer { try? fm.removeItem(atPath: work) }

        var layers: [(descriptor: OCIImage.Descriptor, diffID: ContentDigest, unpacked: Int64)] = []
        let rootfs = work + "/rootfs"
        for dir in ["bin", "etc", "tmp"] { try fm.createDirectory(atPath: "\(rootfs)/\(dir)", withIntermediateDirectories: true) }
        try fm.copyItem(atPath: busyboxPath, toPath: rootfs + "/bin/busybox")
        try fm.createSymbolicLink(atPath: rootfs + "/bin/sh", withDestinationPath: "busybox")
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: URL(fileURLWithPath: rootfs + "/etc/passwd"))
        layers.append(try await layer(of: rootfs, work: work, layout: layout))

        guard let random = FileHandle(forReadingAtPath: "/dev/urandom") else { throw OrcaError(.system, "cannot open /dev/urandom") }
        defer { try? random.close() }
        for index in 1...2 {
            let tree = "\(work)/data\(index)"
            try fm.createDirectory(atPath: tree + "/data", withIntermediateDirectories: true)
            let bytes = try random.read(upToCount: randomLayerBytes) ?? Data()
            try bytes.write(to: URL(fileURLWithPath: "\(tree)/data/blob\(index).bin"))
            layers.append(try await layer(of: tree, work: work, layout: layout))
        }

        let configuration = OCIImage.Configuration(
            created: "1970-01-01T00:00:00Z", architecture: OCIImage.hostArchitecture,
            config: ImageConfig(env: [BuiltinImages.defaultPath], cmd: ["sh"]),
            rootfs: OCIImage.RootFS(diffIDs: layers.map(\.diffID)))
        let config = try blob(encode(configuration), mediaType: OCIImage.MediaType.config, layout: layout)
        let manifest = try blob(encode(OCIImage.Manifest(config: config, layers: layers.map(\.descriptor))),
                                mediaType: OCIImage.MediaType.manifest, layout: layout)
        let entry = OCIImage.Descriptor(mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size,
                                        annotations: ["org.opencontainers.image.ref.name": tag])
        try encode(OCIImage.Index(mediaType: nil, manifests: [entry])).write(to: URL(fileURLWithPath: layout + "/index.json"))
        return BenchTestImage(layout: layout, tag: tag, manifestDigest: manifest.digest,
                              transferBytes: config.size + layers.reduce(0) { $0 + $1.descriptor.size },
                              unpackedBytes: layers.reduce(0) { $0 + $1.unpacked }, layerCount: layers.count)
    }

    /// Tars (reproducibly) and gzips the tree at `root` into a layer blob of the layout.
    private static func layer(of root: String, work: String, layout: String) async throws
        -> (descriptor: OCIImage.Descriptor, diffID: ContentDigest, unpacked: Int64) {
        let tarball = "\(work)/layer-\(UUID().uuidString.lowercased()).tar"
        try await run("/bin/tar", ["--create", "--file", tarball, "--directory", root, "--sort=name", "--owner=0", "--group=0",
                                   "--numeric-owner", "--mtime=@0", "--format=gnu", "."])
        let (diffID, unpacked) = try ContentDigest.sha256(ofFileAt: tarball)
        try await run("/bin/gzip", ["-n", tarball])
        let (digest, size) = try ContentDigest.sha256(ofFileAt: tarball + ".gz")
        try FileManager.default.moveItem(atPath: tarball + ".gz", toPath: "\(layout)/blobs/sha256/\(digest.hex)")
        return (OCIImage.Descriptor(mediaType: OCIImage.MediaType.layerGzip, digest: digest, size: size), diffID, unpacked)
    }

    private static func blob(_ data: Data, mediaType: String, layout: String) throws -> OCIImage.Descriptor {
        let digest = ContentDigest.sha256(of: data)
        try data.write(to: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(digest.hex)"))
        return OCIImage.Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }

    private static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    private static func run(_ executable: String, _ arguments: [String]) async throws {
        let result = try await SubprocessCommandRunner().run(executable, arguments, environment: nil)
        guard result.exitCode == 0 else {
            throw OrcaError(.system, "\(executable) \(arguments.joined(separator: " ")) exited \(result.exitCode): \(result.errorText)")
        }
    }
}
