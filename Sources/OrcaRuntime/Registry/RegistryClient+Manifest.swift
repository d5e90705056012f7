import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OrcaCore

/// An image manifest as resolved from a registry: for this machine's platform, digest-checked.
public struct RegistryManifest: Sendable {
    /// The manifest's bytes exactly as served (what its digest is computed over).
    public var data: Data
    /// The digest of `data`.
    public var digest: ContentDigest
    /// The decoded manifest.
    public var manifest: OCIImage.Manifest
    /// The digest of the index / manifest list it was picked from, if any.
    public var indexDigest: ContentDigest?
}

extension RegistryClient {
    /// The media types a manifest request accepts: OCI index and manifest, Docker list and schema 2.
    static let manifestAccept = [
        OCIImage.MediaType.index, OCIImage.MediaType.manifest,
        OCIImage.MediaType.dockerManifestList, OCIImage.MediaType.dockerManifest,
    ].joined(separator: ", ")

    /// The largest manifest or index accepted.
    static let manifestLimit = 4 << 20

    /// Fetches the manifest `reference` names; an index or manifest list is resolved to the entry
    /// for `platform` (variant ignored for amd64). Every document is checked against the digest
    /// the reference pins, the index entry's digest, and the `Docker-Content-Digest` header.
    public func resolveManifest(_ reference: ImageReference) async throws -> RegistryManifest {
        var selector = reference.digest?.description ?? reference.tag ?? "latest"
        var expected = reference.digest
        var indexDigest: ContentDigest?
        for _ in 0..<4 {
            let (data, digest, mediaType) = try await fetchManifestDocument(reference, selector: selector, expected: expected)
            if Self.isIndex(mediaType: mediaType, data: data) {
                let index: OCIImage.Index
                do { index = try JSONDecoder().decode(OCIImage.Index.self, from: data) } catch {
                    throw OrcaError(.imagePullFailed, "\(reference): the registry sent an invalid image index", cause: error)
                }
                guard let entry = Self.select(platform, from: index.manifests) else {
                    let offered = index.manifests.compactMap(\.platform).map { "\($0.os)/\($0.architecture)" }
                    throw OrcaError(.imagePullFailed, "\(reference) has no image for \(platform.os)/\(platform.architecture) (it offers \(offered.isEmpty ? "none" : offered.joined(separator: ", ")))")
                }
                indexDigest = indexDigest ?? digest
                selector = entry.digest.description
                expected = entry.digest
                continue
            }
            let manifest: OCIImage.Manifest
            do { manifest = try JSONDecoder().decode(OCIImage.Manifest.self, from: data) } catch {
                throw OrcaError(.imagePullFailed, "\(reference): unsupported manifest (\(mediaType ?? "no media type")); want OCI or Docker schema 2", cause: error)
            }
            return RegistryManifest(data: data, digest: digest, manifest: manifest, indexDigest: indexDigest)
        }
        throw OrcaError(.imagePullFailed, "\(reference): image indexes nested too deeply")
    }

    /// GETs `/v2/<path>/manifests/<selector>`; returns its bytes, digest and media type.
    func fetchManifestDocument(_ reference: ImageReference, selector: String,
                               expected: ContentDigest?) async throws -> (Data, ContentDigest, String?) {
        try await withEndpoints(reference) { endpoint in
            try await retrying {
                var headers = HTTPHeaders()
                headers.add(name: "Accept", value: Self.manifestAccept)
                let response = try await get("/v2/\(reference.path)/manifests/\(selector)", endpoint: endpoint,
                                             reference: reference, headers: headers)
                let body: ByteBuffer
                do { body = try await response.body.collect(upTo: Self.manifestLimit) } catch {
                    throw OrcaError(.unavailable, "\(reference): reading the manifest from \(endpoint) failed", cause: error)
                }
                guard response.status == .ok else {
                    if response.status == .notFound {
                        throw OrcaError(.notFound, "manifest for \(reference) not found on \(endpoint): manifest unknown")
                    }
                    throw Self.statusError(response.status, "manifest \(reference.repository):\(selector) from \(endpoint)")
                }
                let data = Data(body.readableBytesView)
                let digest = ContentDigest.sha256(of: data)
                if let expected, digest != expected {
                    throw OrcaError(.digestMismatch, "manifest of \(reference) from \(endpoint) has digest \(digest), expected \(expected)")
                }
                if let header = response.headers.first(name: "Docker-Content-Digest"),
                   let claimed = try? ContentDigest(header), claimed != digest {
                    throw OrcaError(.digestMismatch, "manifest of \(reference) from \(endpoint) has digest \(digest), the registry claims \(claimed)")
                }
                let mediaType = response.headers.first(name: "Content-Type")
                    .map { String($0.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces) }
                return (data, digest, mediaType)
            }
        }
    }

    /// Whether a manifest document is an index / manifest list (by media type, else by shape).
    static func isIndex(mediaType: String?, data: Data) -> Bool {
        switch mediaType {
        case OCIImage.MediaType.index?, OCIImage.MediaType.dockerManifestList?: return true
        case OCIImage.MediaType.manifest?, OCIImage.MediaType.dockerManifest?: return false
        default:
            struct Shape: Decodable { var manifests: [JSONValue]? }
            return (try? JSONDecoder().decode(Shape.self, from: data))?.manifests != nil
        }
    }

    /// The index entry for `platform`: same OS and architecture; the variant must match too
    /// unless the architecture is amd64 or the platform names none (then an exact match is preferred).
    static func select(_ platform: OCIImage.Platform, from entries: [OCIImage.Descriptor]) -> OCIImage.Descriptor? {
        let candidates = entries.filter { $0.platform?.os == platform.os && $0.platform?.architecture == platform.architecture }
        if platform.architecture == "amd64" || platform.variant == nil {
            return candidates.first { $0.platform?.variant == platform.variant } ?? candidates.first
        }
        return candidates.first { $0.platform?.variant == platform.variant }
    }
}
