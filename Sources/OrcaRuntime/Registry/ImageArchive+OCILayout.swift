import Foundation
import OrcaCore

extension ImageArchive.Reader {
    /// The annotation containerd (and `docker save` since 25) names an image by.
    static let containerdNameAnnotation = "io.containerd.image.name"
    /// The OCI annotation for a reference name: a full name or just a tag.
    static let refNameAnnotation = "org.opencontainers.image.ref.name"

    /// Imports an OCI image layout: each `index.json` entry is resolved to `platform` through any
    /// nested index, its config and layers moved into the store (digests verified), and the
    /// manifest registered under the entry's name.
    mutating func importOCILayout(repository: String?, platform: OCIImage.Platform) async throws -> [Image] {
        let index = try decodeIndex("index.json")
        // Every entry must have a name before anything is stored.
        let named = try index.manifests.map { entry in
            guard let name = Self.name(of: entry, repository: repository) else {
                throw OrcaError(.invalid, "OCI layout entry \(entry.digest) has no \(Self.containerdNameAnnotation) or full \(Self.refNameAnnotation) annotation: nothing to name the image by (pass a repository)")
            }
            return (try ImageReference(parsing: name).description, entry)
        }
        var images: [Image] = []
        for (name, entry) in named {
            let (manifest, data) = try resolve(entry, platform: platform, depth: 0)
            _ = try storeBlob(Self.blobPath(manifest.config.digest), expected: manifest.config.digest)
            for layer in manifest.layers { _ = try storeBlob(Self.blobPath(layer.digest), expected: layer.digest) }
            images.append(try await store.register(name, manifest: data))
        }
        return images
    }

    /// The image name of an index entry: `io.containerd.image.name`, else the ref name when it is a
    /// full name, else `repository:<ref name>` when a repository is given.
    static func name(of entry: OCIImage.Descriptor, repository: String?) -> String? {
        let annotations = entry.annotations ?? [:]
        if let name = annotations[containerdNameAnnotation], !name.isEmpty { return name }
        guard let ref = annotations[refNameAnnotation], !ref.isEmpty else { return nil }
        if ref.contains("/") || ref.contains(":") || ref.contains("@") { return ref }
        return repository.map { "\($0):\(ref)" }
    }

    static func blobPath(_ digest: ContentDigest) -> String { "blobs/sha256/\(digest.hex)" }

    /// The manifest `descriptor` leads to for `platform`, with its bytes (digest verified).
    func resolve(_ descriptor: OCIImage.Descriptor, platform: OCIImage.Platform,
                 depth: Int) throws -> (OCIImage.Manifest, Data) {
        guard depth < 4 else { throw OrcaError(.invalid, "OCI layout: image indexes nested too deeply") }
        let data = try read(Self.blobPath(descriptor.digest))
        let digest = ContentDigest.sha256(of: data)
        guard digest == descriptor.digest else {
            throw Self.mismatch(Self.blobPath(descriptor.digest), digest, descriptor.digest)
        }
        if RegistryClient.isIndex(mediaType: descriptor.mediaType, data: data) {
            let index = try decodeIndex(Self.blobPath(descriptor.digest))
            guard let entry = RegistryClient.select(platform, from: index.manifests) else {
                throw OrcaError(.invalid, "OCI layout: index \(descriptor.digest) has no image for \(platform.os)/\(platform.architecture)")
            }
            return try resolve(entry, platform: platform, depth: depth + 1)
        }
        return (try store.decodeManifest(data), data)
    }

    func decodeIndex(_ relative: String) throws -> OCIImage.Index {
        do { return try JSONDecoder().decode(OCIImage.Index.self, from: read(relative)) } catch let error as OrcaError {
            throw error
        } catch {
            throw OrcaError(.invalid, "OCI layout: \(relative) is not an image index", cause: error)
        }
    }
}
