import Foundation
import OrcaClient
import OrcaControllers
import Testing

/// Which volume a claim binds to: class, access modes, capacity, selector, volume mode,
/// phase, pre-binding and, with a chosen node, node affinity.
@Suite struct PersistentVolumeMatcherTests {
    static func volume(_ name: String, _ size: Quantity, modes: [String] = ["ReadWriteOnce"], storageClass: String = "manual",
                       phase: String = "Available", labels: [String: String]? = nil, volumeMode: String? = nil,
                       claimRef: ObjectReference? = nil, node: String? = nil) -> PersistentVolume {
        var spec = PersistentVolumeSpec(accessModes: modes, capacity: ["storage": size], claimRef: claimRef,
                                        hostPath: HostPathVolumeSource(path: "/srv/\(name)"), storageClassName: storageClass,
                                        volumeMode: volumeMode)
        if let node {
            spec.nodeAffinity = VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: [NodeSelectorTerm(matchExpressions: [
                NodeSelectorRequirement(key: "kubernetes.io/hostname", operator: "In", values: [node]),
            ])]))
        }
        return PersistentVolume(metadata: ObjectMeta(labels: labels, name: name), spec: spec, status: PersistentVolumeStatus(phase: phase))
    }

    static func claim(_ size: Quantity = "2Gi", modes: [String] = ["ReadWriteOnce"], storageClass: String? = "manual",
                      selector: LabelSelector? = nil, volumeMode: String? = nil) -> PersistentVolumeClaim {
        PersistentVolumeClaim(metadata: ObjectMeta(name: "data", namespace: "default", uid: "claim-uid"),
                              spec: PersistentVolumeClaimSpec(accessModes: modes, resources: VolumeResourceRequirements(requests: ["storage": size]),
                                                              selector: selector, storageClassName: storageClass, volumeMode: volumeMode))
    }

    static func match(_ claim: PersistentVolumeClaim, _ volumes: [PersistentVolume], node: String? = nil, delay: Bool = false) -> String? {
        let n = node.map { Node(metadata: ObjectMeta(labels: ["kubernetes.io/hostname": $0], name: $0)) }
        return PersistentVolumeMatcher.findBestMatch(for: claim, in: volumes, node: n, delayBinding: delay)?.metadata?.name
    }

    /// (case, claim, volumes, expected volume)
    static let cases: [(String, PersistentVolumeClaim, [PersistentVolume], String?)] = [
        ("the smallest that is big enough", claim("2Gi"), [volume("a", "1Gi"), volume("b", "10Gi"), volume("c", "5Gi")], "c"),
        ("exactly the request", claim("2Gi"), [volume("a", "2048Mi"), volume("b", "3Gi")], "a"),
        ("another class", claim(storageClass: "fast"), [volume("a", "5Gi")], nil),
        ("no class only matches no class", claim(storageClass: ""), [volume("a", "5Gi"), volume("b", "5Gi", storageClass: "")], "b"),
        ("access modes must be offered", claim(modes: ["ReadWriteMany"]), [volume("a", "5Gi")], nil),
        ("more modes than asked", claim(modes: ["ReadWriteMany"]), [volume("a", "5Gi", modes: ["ReadWriteOnce", "ReadWriteMany"])], "a"),
        ("fewest modes first, even if bigger", claim(),
         [volume("a", "3Gi", modes: ["ReadWriteOnce", "ReadOnlyMany"]), volume("b", "9Gi")], "b"),
        ("selector", claim(selector: LabelSelector(matchLabels: ["app": "db"])),
         [volume("a", "3Gi", labels: ["app": "web"]), volume("b", "4Gi", labels: ["app": "db"])], "b"),
        ("volume mode", claim(volumeMode: "Block"), [volume("a", "5Gi"), volume("b", "5Gi", volumeMode: "Block")], "b"),
        ("only Available volumes", claim(), [volume("a", "5Gi", phase: "Released"), volume("b", "5Gi", phase: "Pending")], nil),
        ("not another claim's", claim(), [volume("a", "5Gi", claimRef: ObjectReference(name: "other", namespace: "default"))], nil),
        ("pre-bound wins whatever its phase", claim(),
         [volume("a", "3Gi"), volume("b", "9Gi", phase: "Pending", claimRef: ObjectReference(name: "data", namespace: "default"))], "b"),
        ("pre-bound to an older claim of the name", claim(),
         [volume("a", "9Gi", phase: "Bound", claimRef: ObjectReference(name: "data", namespace: "default", uid: "old"))], nil),
    ]

    @Test(arguments: cases)
    func bestMatch(name: String, claim: PersistentVolumeClaim, volumes: [PersistentVolume], expected: String?) {
        #expect(Self.match(claim, volumes) == expected, "\(name)")
    }

    @Test func waitingForTheFirstConsumerBindsOnlyOnceANodeIsChosen() {
        let free = Self.volume("local", "5Gi", node: "n1")
        #expect(Self.match(Self.claim(), [free], delay: true) == nil)
        #expect(Self.match(Self.claim(), [free], node: "n1", delay: true) == "local")
        #expect(Self.match(Self.claim(), [free], node: "n2", delay: true) == nil)
        let provisioned = Self.volume("pvc-claim-uid", "2Gi", phase: "Pending",
                                      claimRef: ObjectReference(name: "data", namespace: "default", uid: "claim-uid"), node: "n1")
        #expect(Self.match(Self.claim(), [provisioned], delay: true) == "pvc-claim-uid")
        #expect(Self.match(Self.claim(), [provisioned], node: "n2", delay: true) == nil)
    }

    @Test func aVolumeTheUserNamedMustSatisfyTheClaim() {
        let claim = Self.claim("2Gi")
        #expect(PersistentVolumeMatcher.unsatisfiedReason(volume: Self.volume("a", "5Gi"), claim: claim) == nil)
        #expect(PersistentVolumeMatcher.unsatisfiedReason(volume: Self.volume("a", "1Gi"), claim: claim) == "requested PV is too small")
        #expect(PersistentVolumeMatcher.unsatisfiedReason(volume: Self.volume("a", "5Gi", storageClass: "x"), claim: claim)
            == "storageClassName does not match")
        #expect(PersistentVolumeMatcher.unsatisfiedReason(volume: Self.volume("a", "5Gi", volumeMode: "Block"), claim: claim) == "incompatible volumeMode")
        #expect(PersistentVolumeMatcher.unsatisfiedReason(volume: Self.volume("a", "5Gi", modes: ["ReadOnlyMany"]), claim: claim)
            == "incompatible accessMode")
    }

    @Test func theNewestDefaultClassWins() {
        func sc(_ name: String, _ created: String, isDefault: Bool) -> StorageClass {
            StorageClass(metadata: ObjectMeta(annotations: isDefault ? [StorageAnnotations.isDefaultClass: "true"] : nil,
                                              creationTimestamp: created, name: name), provisioner: "x.io/p")
        }
        let classes = [sc("old", "2024-01-01T00:00:00Z", isDefault: true), sc("new", "2024-06-01T00:00:00Z", isDefault: true),
                       sc("newest", "2024-09-01T00:00:00Z", isDefault: false)]
        #expect(StorageClass.defaultClass(of: classes)?.metadata?.name == "new")
        #expect(StorageClass.defaultClass(of: [sc("plain", "2024-01-01T00:00:00Z", isDefault: false)]) == nil)
    }
}
