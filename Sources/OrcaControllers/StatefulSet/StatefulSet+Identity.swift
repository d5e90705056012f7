import Foundation
import OrcaClient

/// The identity rules of StatefulSet pods (`stateful_set_utils.go`): pod `<set>-<ordinal>`
/// for ordinals `[start, start+replicas)`, with the pod-name and pod-index labels, hostname and
/// subdomain; claim `<template>-<set>-<ordinal>` per volume claim template, mounted by a volume
/// named after the template; the revision label; and the pod states the controller waits on.
extension StatefulSet {
    /// `apps/v1.StatefulSetPodNameLabel`.
    static let podNameLabel = "statefulset.kubernetes.io/pod-name"
    /// `apps/v1.PodIndexLabel`.
    static let podIndexLabel = "apps.kubernetes.io/pod-index"

    var setName: String { metadata?.name ?? "" }
    var setNamespace: String { metadata?.namespace ?? "default" }
    /// `spec.ordinals.start` (`getStartOrdinal`).
    var startOrdinal: Int { Int(max(spec?.ordinals?.start ?? 0, 0)) }
    var replicaCount: Int { Int(max(spec?.replicas ?? 1, 0)) }
    /// The last ordinal in range (`getEndOrdinal`); below `startOrdinal` when scaled to zero.
    var endOrdinal: Int { startOrdinal + replicaCount - 1 }
    var minReadySeconds: Int32 { spec?.minReadySeconds ?? 0 }
    /// Parallel pod management (`allowsBurst`).
    var allowsBurst: Bool { spec?.podManagementPolicy == "Parallel" }
    var isOnDelete: Bool { spec?.updateStrategy?.type == "OnDelete" }
    var whenScaled: String { spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? "Retain" }
    var whenDeleted: String { spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? "Retain" }

    func podName(_ ordinal: Int) -> String { "\(setName)-\(ordinal)" }

    /// The claim name of one template for one ordinal (`getPersistentVolumeClaimName`).
    func claimName(_ template: PersistentVolumeClaim, ordinal: Int) -> String {
        "\(template.metadata?.name ?? "")-\(setName)-\(ordinal)"
    }

    /// The pod's parent name and ordinal from `<parent>-<ordinal>`; ordinal -1 when the name
    /// has no numeric suffix (`getParentNameAndOrdinal`).
    static func parentAndOrdinal(_ pod: Pod) -> (parent: String, ordinal: Int) {
        let name = pod.metadata?.name ?? ""
        guard let dash = name.lastIndex(of: "-") else { return ("", -1) }
        let digits = name[name.index(after: dash)...]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return ("", -1) }
        return (String(name[..<dash]), Int32(digits).map(Int.init) ?? -1)
    }

    static func ordinal(of pod: Pod) -> Int { parentAndOrdinal(pod).ordinal }

    /// Named like one of this set's pods (`isMemberOf`).
    func isMember(_ pod: Pod) -> Bool { Self.parentAndOrdinal(pod).parent == setName }

    /// The pod's ordinal is within `[start, end]` (`podInOrdinalRange`).
    func inOrdinalRange(_ pod: Pod) -> Bool {
        let ordinal = Self.ordinal(of: pod)
        return ordinal >= startOrdinal && ordinal <= endOrdinal
    }

    /// Name, namespace and pod-name label are this set's (`identityMatches`).
    func identityMatches(_ pod: Pod) -> Bool {
        let (parent, ordinal) = Self.parentAndOrdinal(pod)
        return ordinal >= 0 && parent == setName && pod.metadata?.name == podName(ordinal)
            && pod.metadata?.namespace == setNamespace && pod.metadata?.labels?[Self.podNameLabel] == pod.metadata?.name
    }

    /// Every claim template is mounted from this ordinal's claim (`storageMatches`).
    func storageMatches(_ pod: Pod) -> Bool {
        let ordinal = Self.ordinal(of: pod)
        guard ordinal >= 0 else { return false }
        let volumes = pod.spec?.volumes ?? []
        return (spec?.volumeClaimTemplates ?? []).allSatisfy { template in
            let volume = volumes.first { $0.name == template.metadata?.name }
            return volume?.persistentVolumeClaim?.claimName == claimName(template, ordinal: ordinal)
        }
    }

    /// The claims of the pod at `ordinal`, in template order, keyed by template name
    /// (`getPersistentVolumeClaims`): the template with its name, the namespace, and the
    /// set's selector labels over the template's labels.
    func claims(ordinal: Int) -> [(volume: String, claim: PersistentVolumeClaim)] {
        (spec?.volumeClaimTemplates ?? []).map { template in
            var labels = template.metadata?.labels ?? [:]
            for (k, v) in spec?.selector?.matchLabels ?? [:] { labels[k] = v }
            let meta = ObjectMeta(annotations: template.metadata?.annotations, finalizers: template.metadata?.finalizers,
                                  labels: labels.isEmpty ? nil : labels, name: claimName(template, ordinal: ordinal),
                                  namespace: setNamespace)
            return (template.metadata?.name ?? "", PersistentVolumeClaim(metadata: meta, spec: template.spec))
        }
    }

    /// Sets the pod's name, namespace and identity labels (`updateIdentity`).
    func updateIdentity(_ pod: inout Pod) {
        let ordinal = Self.ordinal(of: pod)
        var meta = pod.metadata ?? ObjectMeta()
        meta.name = podName(ordinal)
        meta.namespace = setNamespace
        var labels = meta.labels ?? [:]
        labels[Self.podNameLabel] = meta.name
        labels[Self.podIndexLabel] = String(ordinal)
        meta.labels = labels
        pod.metadata = meta
    }

    /// Mounts the pod's claims, replacing volumes of the same names (`updateStorage`).
    func updateStorage(_ pod: inout Pod) {
        let claims = claims(ordinal: Self.ordinal(of: pod))
        guard !claims.isEmpty else { return }
        let names = Set(claims.map(\.volume))
        var volumes = claims.map { Volume(name: $0.volume, persistentVolumeClaim: PersistentVolumeClaimVolumeSource(claimName: $0.claim.metadata?.name, readOnly: false)) }
        volumes += (pod.spec?.volumes ?? []).filter { !names.contains($0.name ?? "") }
        var podSpec = pod.spec ?? PodSpec()
        podSpec.volumes = volumes
        pod.spec = podSpec
    }

    /// A new pod of this set at `ordinal` from its template (`newStatefulSetPod`): the
    /// template's labels and spec, a controller reference, identity, hostname, subdomain and storage.
    func newPod(ordinal: Int) -> Pod {
        var pod = (spec?.template ?? PodTemplateSpec()).pod(namespace: setNamespace, name: podName(ordinal), owner: .controller(self))
        updateIdentity(&pod)
        var podSpec = pod.spec ?? PodSpec()
        podSpec.hostname = pod.metadata?.name
        if let service = spec?.serviceName, !service.isEmpty { podSpec.subdomain = service }
        pod.spec = podSpec
        updateStorage(&pod)
        return pod
    }

    /// This set with the template `revision` restores (`ApplyRevision`).
    func applying(_ revision: ControllerRevision) -> StatefulSet {
        var set = self
        if let template = ControllerRevisionHistory.template(of: revision) { set.spec?.template = template }
        return set
    }

    // MARK: pod states

    /// The revision name on the pod's `controller-revision-hash` label (`getPodRevision`).
    static func revision(of pod: Pod) -> String { pod.metadata?.labels?[ControllerRevisionHistory.podRevisionLabel] ?? "" }

    /// The API server has the pod (it has a phase) (`isCreated`).
    static func isCreated(_ pod: Pod) -> Bool { !(pod.status?.phase ?? "").isEmpty }
    static func isFailed(_ pod: Pod) -> Bool { pod.status?.phase == "Failed" }
    static func isSucceeded(_ pod: Pod) -> Bool { pod.status?.phase == "Succeeded" }
    static func isPending(_ pod: Pod) -> Bool { pod.status?.phase == "Pending" }
    static func isTerminating(_ pod: Pod) -> Bool { pod.metadata?.deletionTimestamp != nil }
    static func isRunningAndReady(_ pod: Pod) -> Bool { pod.status?.phase == "Running" && pod.isReady }

    /// Running, ready and ready for `minReadySeconds` (`isRunningAndAvailable`).
    func isRunningAndAvailable(_ pod: Pod, now: Date) -> Bool {
        Self.isRunningAndReady(pod) && pod.isAvailable(minReadySeconds: minReadySeconds, now: now)
    }

    /// Not running-and-ready, being deleted, or not yet available (`isUnavailable`).
    func isUnavailable(_ pod: Pod, now: Date) -> Bool {
        !Self.isRunningAndReady(pod) || Self.isTerminating(pod) || !pod.isAvailable(minReadySeconds: minReadySeconds, now: now)
    }
}
