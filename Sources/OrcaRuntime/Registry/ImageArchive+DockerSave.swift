import Foundation
import OrcaCore

extension ImageArchive.Reader {
    /// One entry of a `docker save` archive's `manifest.json`.
    struct DockerSaveEntry: Decodable {
        var config: String
        var repoTags: [String]?
        var layers: [String]

        enum CodingKeys: String, CodingKey {
            case config = "Config"
            case repoTags = "RepoTags"
            case layers = "Layers"
        }
    }

    /// Imports a `docker save` archive: for each `manifest.json` entry, stores the config and the
    /// layer files (plain or compressed) and registers a manifest built from them under each of
    /// its `RepoTags` (the archive has no registry manifest).
    mutating func importDockerSave() async throws -> [Image] {
        let entries: [DockerSaveEntry]
        do { entries = try JSONDecoder().decode([DockerSaveEntry].self, from: read("manifest.json")) } catch let error as OrcaError {
            throw error
        } catch {
            throw OrcaError(.invalid, "the archive's manifest.json is not a docker save manifest", cause: error)
        }
        for entry in entries where (entry.repoTags ?? []).isEmpty {
            throw OrcaError(.invalid, "docker save entry \(entry.config) has no RepoTags: nothing to name the image by")
        }
        for tag in entries.flatMap({ $0.repoTags ?? [] }) { _ = try ImageReference(parsing: tag) }
        var images: [Image] = []
        for entry in entries {
            let tags = entry.repoTags ?? []
            let config = try storeBlob(entry.config, expected: Self.digest(named: entry.config))
            let configuration = try store.decodeConfiguration(store.readBlob(config.digest))
            guard configuration.rootfs.diffIDs.count == entry.layers.count else {
                throw OrcaError(.invalid, "docker save entry \(entry.config) lists \(entry.layers.count) layers for \(configuration.rootfs.diffIDs.count) diff IDs")
            }
            var layers: [OCIImage.Descriptor] = []
            for path in entry.layers {
                let mediaType = try layerMediaType(path)
                let blob = try storeBlob(path, expected: Self.digest(named: path))
                layers.append(OCIImage.Descriptor(mediaType: mediaType, digest: blob.digest, size: blob.size))
            }
            let manifest = OCIImage.Manifest(
                config: OCIImage.Descriptor(mediaType: OCIImage.MediaType.config, digest: config.digest, size: config.size),
                layers: layers)
            let data = try OCIImage.encode(manifest)
            for tag in tags { images.append(try await store.register(tag, manifest: data)) }
        }
        return images
    }

    /// The digest an archive path spells, for `blobs/sha256/<hex>` and `<hex>.json`; nil otherwise.
    static func digest(named path: String) -> ContentDigest? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        if path.hasPrefix("blobs/sha256/"), ContentDigest.isHex64(Substring(name)) { return ContentDigest(hex: name) }
        if name.hasSuffix(".json"), ContentDigest.isHex64(name.dropLast(5)) { return ContentDigest(hex: String(name.dropLast(5))) }
        return nil
    }
}
