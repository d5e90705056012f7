import Foundation
import OrcaClient

/// The annotations through which the volume binder, the scheduler and provisioners talk
/// (Kubernetes' `storage/util` and `volume/util` constants).
public enum StorageAnnotations {
    /// On a claim: the binder finished binding it (`yes`).
    public static let bindCompleted = "pv.kubernetes.io/bind-completed"
    /// On a claim or a volume: the binder, not the user, set `volumeName` / `claimRef` (`yes`).
    public static let boundByController = "pv.kubernetes.io/bound-by-controller"
    /// On a volume: the provisioner that created it (and deletes it).
    public static let provisionedBy = "pv.kubernetes.io/provisioned-by"
    /// On a claim: the provisioner asked to create its volume.
    public static let storageProvisioner = "volume.kubernetes.io/storage-provisioner"
    /// The same, under its older name (still set for provisioners that read only it).
    public static let betaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
    /// On a claim of a WaitForFirstConsumer class: the node its first pod was scheduled to.
    public static let selectedNode = "volume.kubernetes.io/selected-node"
    /// On a StorageClass: claims without a class get this one (`true`).
    public static let isDefaultClass = "storageclass.kubernetes.io/is-default-class"
    /// The same, under its older name.
    public static let betaIsDefaultClass = "storageclass.beta.kubernetes.io/is-default-class"
    /// On a claim or volume: the class, before `storageClassName` existed (wins over it).
    public static let betaStorageClass = "volume.beta.kubernetes.io/storage-class"
    /// The node label a local volume's node affinity names.
    public static let hostnameLabel = "kubernetes.io/hostname"
}
