import Foundation
import OrcaClient
#if canImport(Glibc)
import Glibc
#endif

/// `persistentVolumeClaim` volumes: the claim must be Bound; its PersistentVolume's hostPath
/// or local directory is then used like a hostPath volume (bind-mounted into the containers,
/// read-only when the pod's volume says so). A DirectoryOrCreate hostPath is made 0777, as
/// k3s' local-path provisioner makes its volumes, so a container of any user can write it.
extension VolumeManager {
    /// The host directory of the claim `claimName` in `namespace`; throws (the pod waits and
    /// is synced again) while the claim is missing or not bound.
    func persistentVolumePath(namespace: String, claimName: String) async throws -> String {
        let claim: PersistentVolumeClaim
        do {
            claim = try await client.get(PersistentVolumeClaim.self, namespace: namespace, name: claimName)
        } catch let e as APIError where e.isNotFound {
            throw VolumeError(description: "persistentvolumeclaim \"\(claimName)\" not found")
        }
        var volume: PersistentVolume?
        if let name = claim.spec?.volumeName, !name.isEmpty, claim.status?.phase == "Bound" {
            do {
                volume = try await client.get(PersistentVolume.self, namespace: nil, name: name)
            } catch let e as APIError where e.isNotFound {}
        }
        let source = try Self.persistentVolumeSource(claim: claim, volume: volume)
        try Self.prepare(source)
        return source.path
    }

    /// Where a bound claim's data lives on the host.
    struct PersistentVolumeSource: Equatable {
        var path: String
        /// The hostPath `type` (`DirectoryOrCreate`, `Directory`, …); nil for a local volume,
        /// which must exist.
        var hostPathType: String?
    }

    /// The host directory of `claim`'s volume (the kubelet's `getPVCExtractPV` checks): the
    /// claim is Bound to `volume`, which points back at it and is a hostPath or local volume.
    static func persistentVolumeSource(claim: PersistentVolumeClaim, volume: PersistentVolume?) throws -> PersistentVolumeSource {
        let namespace = claim.metadata?.namespace ?? ""
        let claimName = claim.metadata?.name ?? ""
        let volumeName = claim.spec?.volumeName ?? ""
        let phase = claim.status?.phase ?? ""
        guard phase == "Bound", !volumeName.isEmpty else {
            throw VolumeError(description: "error processing PVC \(namespace)/\(claimName): PVC \(namespace)/\(claimName) has non-bound phase (\"\(phase)\") or empty pvc.Spec.VolumeName (\"\(volumeName)\")")
        }
        guard let volume else {
            throw VolumeError(description: "error processing PVC \(namespace)/\(claimName): persistentvolume \"\(volumeName)\" not found")
        }
        let ref = volume.spec?.claimRef
        guard ref?.name == claimName, (ref?.namespace ?? "") == namespace, ref?.uid == claim.metadata?.uid else {
            throw VolumeError(description: "error processing PVC \(namespace)/\(claimName): the volume \"\(volumeName)\" is not bound to the claim")
        }
        if let hostPath = volume.spec?.hostPath, let path = hostPath.path, !path.isEmpty {
            return PersistentVolumeSource(path: path, hostPathType: hostPath.type ?? "")
        }
        if let local = volume.spec?.local, let path = local.path, !path.isEmpty {
            return PersistentVolumeSource(path: path, hostPathType: nil)
        }
        throw VolumeError(description: "persistentvolume \"\(volumeName)\": only hostPath and local volumes can be mounted on this node")
    }

    /// Makes or checks the directory, as the hostPath type (or a local volume) asks.
    static func prepare(_ source: PersistentVolumeSource) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: source.path, isDirectory: &isDir)
        switch source.hostPathType {
        case "DirectoryOrCreate"?:
            guard !exists else { return }
            try fm.createDirectory(atPath: source.path, withIntermediateDirectories: true)
            // Not subject to the umask, as `mkdir -m 0777`.
            guard chmod(source.path, 0o777) == 0 else {
                throw VolumeError(description: "chmod \(source.path): \(String(cString: strerror(errno)))")
            }
        case "Directory"?, nil:
            if !exists || !isDir.boolValue { throw VolumeError(description: "path \"\(source.path)\" does not exist or is not a directory") }
        default:
            // Other hostPath types are checked by the kubelet only for inline volumes; a
            // provisioned volume is a directory.
            if !exists { throw VolumeError(description: "path \"\(source.path)\" does not exist") }
        }
    }
}
