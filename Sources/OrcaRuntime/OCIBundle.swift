import Foundation
import OrcaCore

/// An OCI bundle directory: `config.json` and the `rootfs/` mount point runc runs.
public struct OCIBundle: Hashable, Sendable {
    /// The bundle directory.
    public var path: String

    public init(path: String) { self.path = path }

    /// `<bundle>/config.json`.
    public var configPath: String { "\(path)/config.json" }
    /// `<bundle>/rootfs`, where the container's root file system is mounted.
    public var rootfsPath: String { "\(path)/rootfs" }

    /// Creates the bundle directory and its `rootfs/` mount point (both may already exist).
    public func createDirectories() throws {
        try FileManager.default.createDirectory(atPath: rootfsPath, withIntermediateDirectories: true)
    }

    /// Writes `spec` as `config.json` (atomically, keys sorted).
    public func write(_ spec: OCISpec) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try PrivateFiles.write(encoder.encode(spec), to: configPath)
    }

    /// Builds the spec for `config` (root `rootfs`, bundle-relative) and writes it; returns it.
    @discardableResult
    public func write(_ config: ContainerConfig) throws -> OCISpec {
        let spec = try OCISpec(config)
        try write(spec)
        return spec
    }

    /// Reads `config.json`.
    public func readSpec() throws -> OCISpec {
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw OrcaError(.notFound, "no config.json in bundle \(path)")
        }
        return try JSONDecoder().decode(OCISpec.self, from: data)
    }
}
