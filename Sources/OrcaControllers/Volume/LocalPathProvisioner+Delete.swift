import Foundation
import Logging
import OrcaClient

/// Deleting the volumes the provisioner made, once Released with reclaim policy Delete:
/// the directory goes first (on the local node; a path outside the storage directory is
/// refused), then the PersistentVolume.
extension LocalPathProvisioner {
    static let logger = Logger(label: "orca.controller.local-path-provisioner")

    func delete(_ volume: PersistentVolume) async throws {
        let name = volume.metadata?.name ?? ""
        guard volume.annotation(StorageAnnotations.provisionedBy) == Self.name, volume.status?.phase == "Released",
              volume.spec?.persistentVolumeReclaimPolicy == "Delete", volume.metadata?.deletionTimestamp == nil else { return }
        let path = volume.spec?.hostPath?.path ?? volume.spec?.local?.path ?? ""
        let node = Self.node(of: volume)
        if let node, node == localNodeName {
            guard let directory = Self.removableDirectory(path, storageDirectory: storageDirectory) else {
                await recorder.record(volume, type: "Warning", reason: "VolumeFailedDelete",
                                      message: "refusing to delete \"\(path)\": not a volume directory under \(storageDirectory)")
                return
            }
            do {
                try Self.removeDirectory(directory)
            } catch {
                await recorder.record(volume, type: "Warning", reason: "VolumeFailedDelete", message: "removing \(directory): \(error)")
                throw error
            }
        } else {
            // Another node's disk: this process cannot reach it.
            Self.logger.warning("volume \(name): leaving \(path) on node \(node ?? "<none>") in place; the provisioner removes directories on its own node only")
        }
        var options = DeletionOptions()
        options.preconditionUID = volume.metadata?.uid
        try await client.delete(PersistentVolume.self, namespace: nil, name: name, options: options)
    }

    /// The node a volume is pinned to: the only value of its `kubernetes.io/hostname In` term.
    static func node(of volume: PersistentVolume) -> String? {
        for term in volume.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [] {
            for r in term.matchExpressions ?? [] where r.key == StorageAnnotations.hostnameLabel && r.operator == "In" {
                if let values = r.values, values.count == 1 { return values[0] }
            }
        }
        return nil
    }

    /// `path` when it is a volume directory (`pvc-…`) directly in `storageDirectory` once
    /// `..` and symbolic links in its parent are resolved; nil otherwise.
    static func removableDirectory(_ path: String, storageDirectory: String) -> String? {
        guard path.hasPrefix("/"), storageDirectory.hasPrefix("/") else { return nil }
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let name = url.lastPathComponent
        guard name.hasPrefix("pvc-"), !name.contains("/") else { return nil }
        let root = URL(fileURLWithPath: storageDirectory).standardizedFileURL.resolvingSymlinksInPath().path
        let parent = url.deletingLastPathComponent().resolvingSymlinksInPath().path
        guard parent == root, root != "/" else { return nil }
        return root + "/" + name
    }

    /// Removes a volume directory and what is in it; one already gone is fine. A symbolic
    /// link in its place is removed, never followed.
    static func removeDirectory(_ path: String) throws {
        let fm = FileManager.default
        guard (try? fm.attributesOfItem(atPath: path)) != nil else { return }
        try fm.removeItem(atPath: path)
    }
}
