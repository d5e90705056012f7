import Foundation
import OrcaClient
import OrcaControllers
import Testing

/// The binder and the local-path provisioner together, as in `orca server`: a claim of the
/// default (WaitForFirstConsumer) class waits for a scheduled pod, gets a volume on the pod's
/// node and both are Bound; deleting the claim deletes the volume and its directory; a
/// Retain volume is Released and kept.
@Suite struct PersistentVolumeTests {
    /// Runs the binder, the claim protection and the provisioner (local node `n1`, data dir
    /// `dataDirectory`).
    static func start(_ c: ControllerTestCluster, dataDirectory: String) async -> Task<Void, Never> {
        let binder = await PersistentVolumeBinder.controller(client: c.client, informers: c.informers, clock: c.clock)
        let protection = await PersistentVolumeClaimProtection.controller(client: c.client, informers: c.informers, clock: c.clock)
        let provisioner = await LocalPathProvisioner.controller(client: c.client, informers: c.informers, dataDirectory: dataDirectory,
                                                                localNodeName: "n1", clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [binder, protection, provisioner])
        let clock = c.clock
        return Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await manager.run() }
                // Time moves on, so a reconcile retried after a conflict (with back-off on
                // the manual clock) runs again.
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(10))
                        clock.advance(by: .seconds(1))
                    }
                }
            }
        }
    }

    static func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orca-pv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func claim(_ name: String, storageClass: String? = nil, size: Quantity = "1Gi") -> PersistentVolumeClaim {
        PersistentVolumeClaim(metadata: ObjectMeta(name: name, namespace: "default"),
                              spec: PersistentVolumeClaimSpec(accessModes: ["ReadWriteOnce"],
                                                              resources: VolumeResourceRequirements(requests: ["storage": size]),
                                                              storageClassName: storageClass))
    }

    static func events(_ c: ControllerTestCluster, about name: String) async throws -> [String] {
        try await c.client.list(Event.self, namespace: "default").filter { $0.involvedObject?.name == name }.compactMap(\.reason)
    }

    @Test func aClaimWaitsForItsFirstConsumerAndGetsAVolumeOnItsNode() async throws {
        let c = try await ControllerTestCluster()
        let dataDirectory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        try await LocalPathProvisioner.bootstrap(client: c.client)
        try await LocalPathProvisioner.bootstrap(client: c.client)
        try await c.client.create(c.readyNode("n1"))
        let run = await Self.start(c, dataDirectory: dataDirectory)
        defer { run.cancel() }

        let created = try await c.client.create(Self.claim("data"))
        let uid = created.metadata?.uid ?? ""
        // The default class is filled in; the claim waits for a pod.
        #expect(try await eventually { try await Self.events(c, about: "data").contains("WaitForFirstConsumer") })
        let waiting = try await c.client.get(PersistentVolumeClaim.self, namespace: "default", name: "data")
        #expect(waiting.spec?.storageClassName == "local-path")
        #expect(waiting.status?.phase == "Pending")
        #expect(waiting.annotation(StorageAnnotations.selectedNode) == nil)
        #expect(try await c.client.list(PersistentVolume.self, namespace: nil).isEmpty)

        var pod = c.pod("app", node: "n1")
        pod.spec?.volumes = [Volume(name: "data", persistentVolumeClaim: PersistentVolumeClaimVolumeSource(claimName: "data"))]
        try await c.client.create(pod)
        #expect(try await eventually {
            try await c.client.get(PersistentVolumeClaim.self, namespace: "default", name: "data").status?.phase == "Bound"
        })
        let claim = try await c.client.get(PersistentVolumeClaim.self, namespace: "default", name: "data")
        let volume = try await c.client.get(PersistentVolume.self, namespace: nil, name: "pvc-\(uid)")
        let path = "\(dataDirectory)/storage/pvc-\(uid)_default_data"
        #expect(claim.spec?.volumeName == "pvc-\(uid)")
        #expect(claim.status?.capacity?["storage"] == "1Gi")
        #expect(claim.status?.accessModes == ["ReadWriteOnce"])
        for (key, value) in [(StorageAnnotations.selectedNode, "n1"), (StorageAnnotations.bindCompleted, "yes"),
                             (StorageAnnotations.boundByController, "yes"), (StorageAnnotations.storageProvisioner, LocalPathProvisioner.name),
                             (StorageAnnotations.betaStorageProvisioner, LocalPathProvisioner.name)] {
            #expect(claim.annotation(key) == value, "\(key)")
        }
        #expect(volume.status?.phase == "Bound")
        #expect(volume.annotation(StorageAnnotations.provisionedBy) == LocalPathProvisioner.name)
        #expect(volume.spec?.hostPath == HostPathVolumeSource(path: path, type: "DirectoryOrCreate"))
        #expect(volume.spec?.nodeAffinity?.required?.nodeSelectorTerms?.first?.matchExpressions
            == [NodeSelectorRequirement(key: "kubernetes.io/hostname", operator: "In", values: ["n1"])])
        #expect(volume.spec?.claimRef?.uid == uid && volume.spec?.claimRef?.name == "data")
        #expect(volume.spec?.persistentVolumeReclaimPolicy == "Delete")
        #expect(volume.spec?.storageClassName == "local-path")
        #expect(volume.spec?.capacity?["storage"] == "1Gi")
        #expect(volume.spec?.accessModes == ["ReadWriteOnce"])
        #expect(try await eventually {
            let reasons = try await Self.events(c, about: "data")
            return reasons.contains("ExternalProvisioning") && reasons.contains("Provisioning") && reasons.contains("ProvisioningSucceeded")
        })

        // The node agent makes the directory when it mounts the volume. The claim is kept
        // while its pod exists; once the pod is gone too, the volume and directory go.
        try FileManager.default.createDirectory(atPath: path + "/sub", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: path + "/sub/file", contents: Data("x".utf8)))
        #expect(try await eventually {
            try await c.client.get(PersistentVolumeClaim.self, namespace: "default", name: "data").metadata?.finalizers
                == [PersistentVolumeClaimProtection.finalizer]
        })
        try await c.client.delete(PersistentVolumeClaim.self, namespace: "default", name: "data")
        let terminating = try await c.client.get(PersistentVolumeClaim.self, namespace: "default", name: "data")
        #expect(terminating.metadata?.deletionTimestamp != nil)
        #expect(try await c.client.get(PersistentVolume.self, namespace: nil, name: "pvc-\(uid)").status?.phase == "Bound")
        var now = DeletionOptions()
        now.gracePeriodSeconds = 0
        try await c.client.delete(Pod.self, namespace: "default", name: "app", options: now)
        #expect(try await eventually { try await c.client.list(PersistentVolume.self, namespace: nil).isEmpty })
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try await c.client.list(PersistentVolumeClaim.self, namespace: "default").isEmpty)
    }

    @Test func aRetainVolumeIsReleasedAndKeptWhenItsClaimGoes() async throws {
        let c = try await ControllerTestCluster()
        let dataDirectory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let run = await Self.start(c, dataDirectory: dataDirectory)
        defer { run.cancel() }
        for (name, size) in [("small", "1Gi"), ("big", "5Gi"), ("huge", "50Gi")] as [(String, Quantity)] {
            try await c.client.create(PersistentVolume(metadata: ObjectMeta(name: name), spec: PersistentVolumeSpec(
                accessModes: ["ReadWriteOnce"], capacity: ["storage": size], hostPath: HostPathVolumeSource(path: "/srv/\(name)"),
                persistentVolumeReclaimPolicy: "Retain", storageClassName: "manual")))
        }
        // The binder has seen all three (it marks each Available) before the claim comes, so the
        // smallest fit is chosen, not merely the first volume its cache happened to hold.
        #expect(try await eventually {
            try await c.client.list(PersistentVolume.self, namespace: nil).allSatisfy { $0.status?.phase == "Available" }
        })
        let created = try await c.client.create(Self.claim("db", storageClass: "manual", size: "2Gi"))
        #expect(try await eventually {
            try await c.client.get(PersistentVolumeClaim.self, namespace: "default", name: "db").status?.phase == "Bound"
        })
        let claim = try await c.client.get(PersistentVolumeClaim.self, namespace: "default", name: "db")
        #expect(claim.spec?.volumeName == "big")
        #expect(claim.status?.capacity?["storage"] == "5Gi")
        let big = try await c.client.get(PersistentVolume.self, namespace: nil, name: "big")
        #expect(big.status?.phase == "Bound")
        #expect(big.spec?.claimRef?.uid == created.metadata?.uid)
        #expect(big.annotation(StorageAnnotations.boundByController) == "yes")
        #expect(try await eventually {
            try await c.client.get(PersistentVolume.self, namespace: nil, name: "small").status?.phase == "Available"
        })

        try await c.client.delete(PersistentVolumeClaim.self, namespace: "default", name: "db")
        #expect(try await eventually {
            try await c.client.get(PersistentVolume.self, namespace: nil, name: "big").status?.phase == "Released"
        })
        let released = try await c.client.get(PersistentVolume.self, namespace: nil, name: "big")
        #expect(released.spec?.claimRef?.name == "db")
    }

    @Test func theProvisionerRemovesNothingOutsideItsStorageDirectory() async throws {
        let c = try await ControllerTestCluster()
        let dataDirectory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let outside = "\(dataDirectory)/pvc-outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let run = await Self.start(c, dataDirectory: dataDirectory)
        defer { run.cancel() }
        // A volume that claims to be the provisioner's, bound to a claim that is gone.
        try await c.client.create(PersistentVolume(
            metadata: ObjectMeta(annotations: [StorageAnnotations.provisionedBy: LocalPathProvisioner.name], name: "pvc-forged"),
            spec: PersistentVolumeSpec(
                accessModes: ["ReadWriteOnce"], capacity: ["storage": "1Gi"],
                claimRef: ObjectReference(kind: "PersistentVolumeClaim", name: "gone", namespace: "default", uid: "gone-uid"),
                hostPath: HostPathVolumeSource(path: "\(dataDirectory)/storage/../pvc-outside", type: "DirectoryOrCreate"),
                nodeAffinity: VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: [NodeSelectorTerm(matchExpressions: [
                    NodeSelectorRequirement(key: "kubernetes.io/hostname", operator: "In", values: ["n1"]),
                ])])),
                persistentVolumeReclaimPolicy: "Delete", storageClassName: "local-path")))
        #expect(try await eventually {
            try await c.client.list(Event.self, namespace: "default").contains { $0.reason == "VolumeFailedDelete" && $0.involvedObject?.name == "pvc-forged" }
        })
        #expect(FileManager.default.fileExists(atPath: outside))
        #expect(try await c.client.get(PersistentVolume.self, namespace: nil, name: "pvc-forged").status?.phase == "Released")
    }

    @Test func theSchedulerChecksClaimsAndVolumeNodesAndSelectsTheNode() async throws {
        let c = try await ControllerTestCluster()
        try await LocalPathProvisioner.bootstrap(client: c.client)
        try await c.client.create(StorageClass(metadata: ObjectMeta(name: "now"), provisioner: "example.com/now"))
        try await c.client.create(Self.claim("later"))
        try await c.client.create(Self.claim("now", storageClass: "now"))
        var bound = Self.claim("bound", storageClass: "manual")
        bound.spec?.volumeName = "pinned"
        try await c.client.create(bound)
        try await c.client.create(PersistentVolume(metadata: ObjectMeta(name: "pinned"), spec: PersistentVolumeSpec(
            accessModes: ["ReadWriteOnce"], capacity: ["storage": "1Gi"], hostPath: HostPathVolumeSource(path: "/srv/pinned"),
            nodeAffinity: VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: [NodeSelectorTerm(matchExpressions: [
                NodeSelectorRequirement(key: "kubernetes.io/hostname", operator: "In", values: ["n1"]),
            ])])), storageClassName: "manual")))
        let binding = await PodVolumeBinding(informers: c.informers)
        let run = Task { await c.informers.run() }
        defer { run.cancel() }
        await binding.waitForSync()
        func pod(_ claims: [String]) -> Pod {
            var pod = c.pod("p")
            pod.spec?.volumes = claims.map { Volume(name: $0, persistentVolumeClaim: PersistentVolumeClaimVolumeSource(claimName: $0)) }
            return pod
        }
        #expect(await binding.preFilter(pod(["missing"])) == "persistentvolumeclaim \"missing\" not found")
        #expect(await binding.preFilter(pod(["now"])) == "pod has unbound immediate PersistentVolumeClaims")
        #expect(await binding.preFilter(pod(["later", "bound"])) == nil)
        #expect(await binding.filter(pod(["bound"]), node: c.readyNode("n1")) == nil)
        #expect(await binding.filter(pod(["bound"]), node: c.readyNode("n2")) == "node(s) had volume node affinity conflict")
        try await binding.selectNode("n1", for: pod(["later", "bound"]), client: c.client)
        let later = try await c.client.get(PersistentVolumeClaim.self, namespace: "default", name: "later")
        #expect(later.annotation(StorageAnnotations.selectedNode) == "n1")
        let stays = try await c.client.get(PersistentVolumeClaim.self, namespace: "default", name: "bound")
        #expect(stays.annotation(StorageAnnotations.selectedNode) == nil)
    }
}
