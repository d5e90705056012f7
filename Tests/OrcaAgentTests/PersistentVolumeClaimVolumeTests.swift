import Foundation
import OrcaClient
import Testing
@testable import OrcaAgent

/// How the agent finds a `persistentVolumeClaim` volume's directory: only a Bound claim
/// whose volume points back at it, of a hostPath or local volume; DirectoryOrCreate makes
/// the directory world-writable.
struct PersistentVolumeClaimVolumeTests {
    static func claim(phase: String = "Bound", volumeName: String? = "pv-1") -> PersistentVolumeClaim {
        PersistentVolumeClaim(metadata: ObjectMeta(name: "data", namespace: "default", uid: "claim-uid"),
                              spec: PersistentVolumeClaimSpec(volumeName: volumeName), status: PersistentVolumeClaimStatus(phase: phase))
    }

    static func volume(hostPath: HostPathVolumeSource? = HostPathVolumeSource(path: "/srv/pv-1", type: "DirectoryOrCreate"),
                       local: LocalVolumeSource? = nil, claimUID: String = "claim-uid") -> PersistentVolume {
        PersistentVolume(metadata: ObjectMeta(name: "pv-1"), spec: PersistentVolumeSpec(
            claimRef: ObjectReference(name: "data", namespace: "default", uid: claimUID), hostPath: hostPath, local: local))
    }

    @Test func aBoundClaimGivesItsVolumesDirectory() throws {
        #expect(try VolumeManager.persistentVolumeSource(claim: Self.claim(), volume: Self.volume())
            == .init(path: "/srv/pv-1", hostPathType: "DirectoryOrCreate"))
        #expect(try VolumeManager.persistentVolumeSource(claim: Self.claim(), volume: Self.volume(hostPath: nil, local: LocalVolumeSource(path: "/mnt/disk")))
            == .init(path: "/mnt/disk", hostPathType: nil))
    }

    @Test func aPendingClaimOrAForeignVolumeIsAnError() {
        #expect(throws: VolumeManager.VolumeError.self) {
            try VolumeManager.persistentVolumeSource(claim: Self.claim(phase: "Pending", volumeName: nil), volume: nil)
        }
        #expect(throws: VolumeManager.VolumeError.self) {
            try VolumeManager.persistentVolumeSource(claim: Self.claim(), volume: nil)
        }
        #expect(throws: VolumeManager.VolumeError.self) {
            try VolumeManager.persistentVolumeSource(claim: Self.claim(), volume: Self.volume(claimUID: "someone-else"))
        }
        #expect(throws: VolumeManager.VolumeError.self) {
            try VolumeManager.persistentVolumeSource(claim: Self.claim(), volume: Self.volume(hostPath: nil))
        }
        do {
            _ = try VolumeManager.persistentVolumeSource(claim: Self.claim(phase: "Pending", volumeName: nil), volume: nil)
        } catch {
            #expect("\(error)" == #"error processing PVC default/data: PVC default/data has non-bound phase ("Pending") or empty pvc.Spec.VolumeName ("")"#)
        }
    }

    @Test func directoryOrCreateMakesAWorldWritableDirectory() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("orca-pvc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/storage/pvc-1"
        try VolumeManager.prepare(.init(path: path, hostPathType: "DirectoryOrCreate"))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o777)
        // Again: nothing to do.
        try VolumeManager.prepare(.init(path: path, hostPathType: "DirectoryOrCreate"))
        #expect(throws: VolumeManager.VolumeError.self) { try VolumeManager.prepare(.init(path: root + "/missing", hostPathType: nil)) }
    }
}
