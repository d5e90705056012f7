import Foundation
import OrcaClient

/// k3s' local-path provisioner, built in: creates a hostPath volume on the claim's node for
/// every claim handed to `rancher.io/local-path` (the binder's `storage-provisioner`
/// annotation), and deletes Released volumes it made whose reclaim policy is Delete.
///
/// A volume is `<data-dir>/storage/pvc-<claim uid>_<namespace>_<claim>` on the node: a
/// hostPath of type DirectoryOrCreate, pinned to the node by required node affinity and
/// pre-bound to its claim. The node agent makes the directory when it mounts the volume;
/// the provisioner removes it on deletion when the volume's node is the local node (the
/// agent embedded in `orca server`), and refuses any path outside the storage directory.
public struct LocalPathProvisioner: Reconciler {
    /// The provisioner name classes name.
    public static let name = "rancher.io/local-path"
    /// The class `orca server` creates at start.
    public static let defaultClassName = "local-path"

    let client: any APIClient
    let claims: SharedInformer<PersistentVolumeClaim>
    let volumes: SharedInformer<PersistentVolume>
    let classes: SharedInformer<StorageClass>
    /// `<data-dir>/storage`.
    let storageDirectory: String
    /// The node whose directories this process can remove (nil: none, `--disable-agent`).
    let localNodeName: String?
    let recorder: EventRecorder

    /// The directory that holds the volumes under `dataDirectory`.
    public static func storageDirectory(dataDirectory: String) -> String {
        (dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory) + "/storage"
    }

    /// Creates the default StorageClass `local-path` (WaitForFirstConsumer, Delete) if no
    /// class of that name exists; one the user changed or removed the mark from is kept.
    public static func bootstrap(client: any APIClient) async throws {
        let storageClass = StorageClass(metadata: ObjectMeta(annotations: [StorageAnnotations.isDefaultClass: "true"], name: defaultClassName),
                                        provisioner: name, reclaimPolicy: "Delete", volumeBindingMode: "WaitForFirstConsumer")
        do {
            try await client.create(storageClass)
        } catch let e as APIError where e.isAlreadyExists {}
    }

    /// Builds the provisioner's controller on `informers`.
    /// - Parameters:
    ///   - dataDirectory: the server's data directory; volumes go under `<dataDirectory>/storage`.
    ///   - localNodeName: the node of the agent embedded in this process, if any.
    public static func controller(client: any APIClient, informers: SharedInformerFactory, dataDirectory: String,
                                  localNodeName: String?, clock: any WallClock = SystemClock()) async -> Controller<LocalPathProvisioner> {
        let claims = await informers.informer(PersistentVolumeClaim.self)
        let volumes = await informers.informer(PersistentVolume.self)
        let classes = await informers.informer(StorageClass.self)
        let queue = RateLimitingQueue(clock: clock)
        let provisioner = LocalPathProvisioner(client: client, claims: claims, volumes: volumes, classes: classes,
                                               storageDirectory: storageDirectory(dataDirectory: dataDirectory),
                                               localNodeName: localNodeName,
                                               recorder: EventRecorder(client: client, component: name, host: localNodeName, clock: { clock.now }))
        @Sendable func claimChanged(_ claim: PersistentVolumeClaim) async {
            if isHandedOver(claim) { await queue.add(VolumeQueueKey.of(claim).description) }
        }
        @Sendable func volumeChanged(_ volume: PersistentVolume) async {
            if volume.annotation(StorageAnnotations.provisionedBy) == name, volume.status?.phase == "Released" {
                await queue.add(VolumeQueueKey.of(volume).description)
            }
        }
        await claims.addEventHandler(InformerEventHandler(onAdd: claimChanged, onUpdate: { await claimChanged($1) }))
        await volumes.addEventHandler(InformerEventHandler(onAdd: volumeChanged, onUpdate: { await volumeChanged($1) }))
        return Controller(name: "local-path-provisioner", queue: queue, reconciler: provisioner, workers: 2,
                          waitForSync: [{ await claims.waitForSync() }, { await volumes.waitForSync() }, { await classes.waitForSync() }])
    }

    /// A claim asks this provisioner for a volume and has none yet.
    static func isHandedOver(_ claim: PersistentVolumeClaim) -> Bool {
        let asked = claim.annotation(StorageAnnotations.storageProvisioner) ?? claim.annotation(StorageAnnotations.betaStorageProvisioner)
        return asked == name && (claim.spec?.volumeName ?? "").isEmpty && claim.metadata?.deletionTimestamp == nil
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        switch VolumeQueueKey(parsing: key) {
        case .claim(let claimKey)?:
            guard let claim = await claims.get(claimKey), Self.isHandedOver(claim) else { return .done }
            try await provision(claim)
        case .volume(let name)?:
            guard let volume = await volumes.get(name) else { return .done }
            try await delete(volume)
        case nil:
            break
        }
        return .done
    }

    /// The volume for `claim` (`pvc-<uid>`), unless it exists or the claim cannot have one yet.
    func provision(_ claim: PersistentVolumeClaim) async throws {
        let uid = claim.metadata?.uid ?? ""
        let volumeName = "pvc-\(uid)"
        guard !uid.isEmpty, await volumes.get(volumeName) == nil else { return }
        let className = claim.storageClass
        guard let storageClass = await classes.get(className), storageClass.provisioner == Self.name else { return }
        guard let node = claim.annotation(StorageAnnotations.selectedNode) ?? (storageClass.waitsForFirstConsumer ? nil : localNodeName) else {
            if !storageClass.waitsForFirstConsumer {
                await failed(claim, className, "configuration error, no node was specified")
            }
            return
        }
        if claim.spec?.selector != nil {
            await failed(claim, className, "claim Selector is not supported")
            return
        }
        if claim.spec?.volumeMode == "Block" {
            await failed(claim, className, "only Filesystem volumes are supported")
            return
        }
        let namespace = claim.metadata?.namespace ?? "default"
        let claimName = claim.metadata?.name ?? ""
        await recorder.record(claim, type: "Normal", reason: "Provisioning",
                              message: "External provisioner is provisioning volume for claim \"\(namespace)/\(claimName)\"")
        let path = "\(storageDirectory)/\(volumeName)_\(namespace)_\(claimName)"
        let volume = PersistentVolume(
            metadata: ObjectMeta(annotations: [StorageAnnotations.provisionedBy: Self.name], name: volumeName),
            spec: PersistentVolumeSpec(
                accessModes: claim.spec?.accessModes, capacity: ["storage": claim.requestedStorage], claimRef: claim.reference,
                hostPath: HostPathVolumeSource(path: path, type: "DirectoryOrCreate"),
                mountOptions: storageClass.mountOptions,
                nodeAffinity: VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: [NodeSelectorTerm(matchExpressions: [
                    NodeSelectorRequirement(key: StorageAnnotations.hostnameLabel, operator: "In", values: [node]),
                ])])),
                persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? "Delete", storageClassName: className,
                volumeMode: "Filesystem"))
        do {
            try await client.create(volume)
        } catch let e as APIError where e.isAlreadyExists {
            return
        } catch {
            await failed(claim, className, "\(error)")
            throw error
        }
        await recorder.record(claim, type: "Normal", reason: "ProvisioningSucceeded", message: "Successfully provisioned volume \(volumeName)")
    }

    func failed(_ claim: PersistentVolumeClaim, _ className: String, _ message: String) async {
        await recorder.record(claim, type: "Warning", reason: "ProvisioningFailed",
                              message: "failed to provision volume with StorageClass \"\(className)\": \(message)")
    }
}
