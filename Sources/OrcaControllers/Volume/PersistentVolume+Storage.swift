import Foundation
import OrcaClient

// What the volume controllers read off claims, volumes, classes and pods, in Kubernetes'
// helper names (`GetPersistentVolumeClaimClass`, `IsDefaultAnnotation`, …).

extension PersistentVolumeClaim {
    /// `GetPersistentVolumeClaimClass`: the beta annotation, else `spec.storageClassName`,
    /// else "" (no class).
    public var storageClass: String {
        metadata?.annotations?[StorageAnnotations.betaStorageClass] ?? spec?.storageClassName ?? ""
    }

    /// `spec.resources.requests.storage` (zero when missing).
    public var requestedStorage: Quantity { spec?.resources?.requests?["storage"] ?? Quantity(value: 0) }

    /// The value of annotation `key`.
    public func annotation(_ key: String) -> String? { metadata?.annotations?[key] }

    /// A reference to this claim, as a volume's `claimRef` holds it (`ref.GetReference`).
    public var reference: ObjectReference {
        ObjectReference(apiVersion: Self.apiVersion, kind: Self.kind, name: metadata?.name, namespace: metadata?.namespace,
                        resourceVersion: metadata?.resourceVersion, uid: metadata?.uid)
    }
}

extension PersistentVolume {
    /// `GetPersistentVolumeClass`: the beta annotation, else `spec.storageClassName`, else "".
    public var storageClass: String {
        metadata?.annotations?[StorageAnnotations.betaStorageClass] ?? spec?.storageClassName ?? ""
    }

    /// `spec.capacity.storage` (zero when missing).
    public var capacityStorage: Quantity { spec?.capacity?["storage"] ?? Quantity(value: 0) }

    /// The value of annotation `key`.
    public func annotation(_ key: String) -> String? { metadata?.annotations?[key] }

    /// The `namespace/name` key of the claim `spec.claimRef` names, if any.
    public var claimKey: String? {
        guard let ref = spec?.claimRef, let name = ref.name, !name.isEmpty else { return nil }
        return ObjectKey(namespace: ref.namespace, name: name).description
    }
}

extension StorageClass {
    /// `storageutil.IsDefaultAnnotation`.
    public var isDefaultClass: Bool {
        let annotations = metadata?.annotations ?? [:]
        return annotations[StorageAnnotations.isDefaultClass] == "true" || annotations[StorageAnnotations.betaIsDefaultClass] == "true"
    }

    /// `volumeBindingMode: WaitForFirstConsumer`: claims wait for a scheduled pod.
    public var waitsForFirstConsumer: Bool { volumeBindingMode == "WaitForFirstConsumer" }

    /// The class claims without one get (`GetDefaultClass`): of the classes marked default,
    /// the newest, then the first by name.
    public static func defaultClass(of classes: [StorageClass]) -> StorageClass? {
        classes.filter(\.isDefaultClass).min { a, b in
            let ta = KubernetesTime.date(a.metadata?.creationTimestamp) ?? .distantPast
            let tb = KubernetesTime.date(b.metadata?.creationTimestamp) ?? .distantPast
            if ta != tb { return ta > tb }
            return (a.metadata?.name ?? "") < (b.metadata?.name ?? "")
        }
    }
}

extension Pod {
    /// The claims this pod's volumes name, as `namespace/claimName` keys.
    public var persistentVolumeClaimKeys: [String] {
        let namespace = metadata?.namespace
        return (spec?.volumes ?? []).compactMap { volume in
            guard let name = volume.persistentVolumeClaim?.claimName, !name.isEmpty else { return nil }
            return ObjectKey(namespace: namespace, name: name).description
        }
    }
}
