import Foundation
import OrcaCore

/// The OCI image-spec documents the store reads and writes: descriptors, manifests, indexes and
/// the image configuration. Unknown fields are ignored when decoding; nil fields are omitted.
public enum OCIImage {
    /// Media types of the OCI image spec (and their Docker schema-2 equivalents, which are accepted).
    public enum MediaType {
        public static let manifest = "application/vnd.oci.image.manifest.v1+json"
        public static let index = "application/vnd.oci.image.index.v1+json"
        public static let config = "application/vnd.oci.image.config.v1+json"
        public static let layer = "application/vnd.oci.image.layer.v1.tar"
        public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
        public static let layerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
        public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
        public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
        public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
        public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    }

    /// A reference to a blob: its media type, digest and size.
    public struct Descriptor: Codable, Hashable, Sendable {
        public var mediaType: String
        public var digest: ContentDigest
        public var size: Int64
        public var annotations: [String: String]?
        public var platform: Platform?

        public init(mediaType: String, digest: ContentDigest, size: Int64, annotations: [String: String]? = nil, platform: Platform? = nil) {
            self.mediaType = mediaType
            self.digest = digest
            self.size = size
            self.annotations = annotations
            self.platform = platform
        }
    }

    /// The platform an index entry is for.
    public struct Platform: Codable, Hashable, Sendable {
        public var architecture: String
        public var os: String
        public var variant: String?

        public init(architecture: String, os: String, variant: String? = nil) {
            self.architecture = architecture
            self.os = os
            self.variant = variant
        }
    }

    /// An image manifest: one config and the layers, bottom first.
    public struct Manifest: Codable, Hashable, Sendable {
        public var schemaVersion: Int = 2
        public var mediaType: String?
        public var config: Descriptor
        public var layers: [Descriptor]
        public var annotations: [String: String]?

        public init(mediaType: String? = MediaType.manifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
            self.mediaType = mediaType
            self.config = config
            self.layers = layers
            self.annotations = annotations
        }
    }

    /// An image index (multi-platform list).
    public struct Index: Codable, Hashable, Sendable {
        public var schemaVersion: Int = 2
        public var mediaType: String?
        public var manifests: [Descriptor]

        public init(mediaType: String? = MediaType.index, manifests: [Descriptor]) {
            self.mediaType = mediaType
            self.manifests = manifests
        }
    }

    /// The image configuration blob (`application/vnd.oci.image.config.v1+json`).
    public struct Configuration: Codable, Hashable, Sendable {
        public var created: String?
        public var architecture: String
        public var os: String
        public var config: ImageConfig?
        public var rootfs: RootFS
        public var history: [History]?

        public init(created: String? = nil, architecture: String, os: String = "linux", config: ImageConfig?, rootfs: RootFS, history: [History]? = nil) {
            self.created = created
            self.architecture = architecture
            self.os = os
            self.config = config
            self.rootfs = rootfs
            self.history = history
        }
    }

    /// `rootfs`: the uncompressed digests (diff IDs) of the layers, bottom first.
    public struct RootFS: Codable, Hashable, Sendable {
        public var type: String = "layers"
        public var diffIDs: [ContentDigest]

        public init(diffIDs: [ContentDigest]) { self.diffIDs = diffIDs }

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    /// One `history` entry.
    public struct History: Codable, Hashable, Sendable {
        public var created: String?
        public var createdBy: String?
        public var comment: String?
        public var emptyLayer: Bool?

        public init(created: String? = nil, createdBy: String? = nil, comment: String? = nil, emptyLayer: Bool? = nil) {
            self.created = created
            self.createdBy = createdBy
            self.comment = comment
            self.emptyLayer = emptyLayer
        }

        enum CodingKeys: String, CodingKey {
            case created, comment
            case createdBy = "created_by"
            case emptyLayer = "empty_layer"
        }
    }

    /// The platform of this machine in OCI words (`amd64`, `arm64`, …).
    public static var hostArchitecture: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #elseif arch(arm)
        return "arm"
        #else
        return "unknown"
        #endif
    }

    /// JSON the way the store writes documents: sorted keys, no escaped slashes (stable digests).
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

/// The runtime defaults an image carries (`config` in the image configuration).
public struct ImageConfig: Codable, Hashable, Sendable {
    /// `user`, `uid`, `user:group` or `uid:gid`; empty means root.
    public var user: String?
    /// `KEY=value` entries.
    public var env: [String]?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var workingDir: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var exposedPorts: [String: JSONValue]?
    public var volumes: [String: JSONValue]?

    public init(user: String? = nil, env: [String]? = nil, entrypoint: [String]? = nil, cmd: [String]? = nil,
                workingDir: String? = nil, labels: [String: String]? = nil, stopSignal: String? = nil) {
        self.user = user
        self.env = env
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.workingDir = workingDir
        self.labels = labels
        self.stopSignal = stopSignal
    }

    enum CodingKeys: String, CodingKey {
        case user = "User"
        case env = "Env"
        case entrypoint = "Entrypoint"
        case cmd = "Cmd"
        case workingDir = "WorkingDir"
        case labels = "Labels"
        case stopSignal = "StopSignal"
        case exposedPorts = "ExposedPorts"
        case volumes = "Volumes"
    }
}
