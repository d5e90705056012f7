import Foundation
import OrcaAPI

/// The columns of the storage kinds as kubectl shows them (Kubernetes' `printPersistentVolume`,
/// `printPersistentVolumeClaim` and `printStorageClass`), with the `-o wide` volume mode.
enum StoragePrinter {
    typealias Column = TableConvertor.Column

    /// The beta annotation that named a class before `storageClassName` existed; it wins.
    static let betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"

    /// `helper.GetAccessModesAsString`: RWO, ROX, RWX, RWOP in that order, each once.
    static func accessModes(_ modes: JSONValue?) -> String {
        let set = Set((modes?.arrayValue ?? []).compactMap(\.stringValue))
        return [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
            .filter { set.contains($0.0) }.map(\.1).joined(separator: ",")
    }

    /// `GetPersistentVolumeClass` / `GetPersistentVolumeClaimClass`.
    static func storageClass(_ o: JSONValue) -> String {
        if let beta = o[path: ["metadata", "annotations", betaStorageClassAnnotation]]?.stringValue { return beta }
        return o[path: ["spec", "storageClassName"]]?.stringValue ?? ""
    }

    /// A quantity in its canonical form (`resource.Quantity.String()`), empty when unset.
    static func quantity(_ value: JSONValue?) -> String {
        guard let text = value?.stringValue ?? value?.intValue.map(String.init) else { return "" }
        return Quantity(text).description
    }

    /// `Terminating` while being deleted, else the status phase.
    static func phase(_ o: JSONValue) -> String {
        o.deletionTimestamp != nil ? "Terminating" : TableConvertor.str(o, "status.phase")
    }

    static func unset(_ value: JSONValue?) -> JSONValue { .string(value?.stringValue ?? "<unset>") }

    static let persistentVolumes: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "Capacity", description: "capacity is the description of the persistent volume's resources and capacity.") { o, _ in
            .string(quantity(o[path: ["spec", "capacity", "storage"]]))
        },
        Column(name: "Access Modes", description: "accessModes contains all ways the volume can be mounted.") { o, _ in
            .string(accessModes(o[path: ["spec", "accessModes"]]))
        },
        Column(name: "Reclaim Policy", description: "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.") { o, _ in
            .string(TableConvertor.str(o, "spec.persistentVolumeReclaimPolicy"))
        },
        Column(name: "Status", description: "phase indicates if a volume is available, bound to a claim, or released by a claim.") { o, _ in
            .string(phase(o))
        },
        Column(name: "Claim", description: "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.") { o, _ in
            guard let ref = o[path: ["spec", "claimRef"]], ref.objectValue != nil else { return "" }
            return .string("\(ref["namespace"]?.stringValue ?? "")/\(ref["name"]?.stringValue ?? "")")
        },
        Column(name: "StorageClass", description: "StorageClass of the pv") { o, _ in .string(storageClass(o)) },
        Column(name: "VolumeAttributesClass", description: "VolumeAttributesClass of the pv") { o, _ in
            unset(o[path: ["spec", "volumeAttributesClassName"]])
        },
        Column(name: "Reason", description: "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.") { o, _ in
            .string(TableConvertor.str(o, "status.reason"))
        },
        TableConvertor.ageColumn,
        Column(name: "VolumeMode", priority: 1, description: "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.") { o, _ in
            unset(o[path: ["spec", "volumeMode"]])
        },
    ]

    static let persistentVolumeClaims: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "Status", description: "phase represents the current phase of PersistentVolumeClaim.") { o, _ in .string(phase(o)) },
        Column(name: "Volume", description: "volumeName is the binding reference to the PersistentVolume backing this claim.") { o, _ in
            .string(TableConvertor.str(o, "spec.volumeName"))
        },
        // Capacity and access modes are shown once the claim names its volume.
        Column(name: "Capacity", description: "capacity represents the actual resources of the underlying volume.") { o, _ in
            TableConvertor.str(o, "spec.volumeName").isEmpty ? "" : .string(quantity(o[path: ["status", "capacity", "storage"]]))
        },
        Column(name: "Access Modes", description: "accessModes contains the actual access modes the volume backing the PVC has.") { o, _ in
            TableConvertor.str(o, "spec.volumeName").isEmpty ? "" : .string(accessModes(o[path: ["status", "accessModes"]]))
        },
        Column(name: "StorageClass", description: "StorageClass of the pvc") { o, _ in .string(storageClass(o)) },
        Column(name: "VolumeAttributesClass", description: "VolumeAttributesClass of the pvc") { o, _ in
            unset(o[path: ["spec", "volumeAttributesClassName"]])
        },
        TableConvertor.ageColumn,
        Column(name: "VolumeMode", priority: 1, description: "volumeMode defines what type of volume is required by the claim.") { o, _ in
            unset(o[path: ["spec", "volumeMode"]])
        },
    ]

    /// `storageutil.IsDefaultAnnotation`.
    static func isDefaultClass(_ o: JSONValue) -> Bool {
        let annotations = o[path: ["metadata", "annotations"]]
        return annotations?["storageclass.kubernetes.io/is-default-class"]?.stringValue == "true"
            || annotations?["storageclass.beta.kubernetes.io/is-default-class"]?.stringValue == "true"
    }

    static let storageClasses: [Column] = [
        Column(name: "Name", format: "name", description: "Name must be unique within a namespace.") { o, _ in
            .string((o.metadataName ?? "") + (isDefaultClass(o) ? " (default)" : ""))
        },
        Column(name: "Provisioner", description: "provisioner indicates the type of the provisioner.") { o, _ in
            .string(TableConvertor.str(o, "provisioner"))
        },
        Column(name: "ReclaimPolicy", description: "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.") { o, _ in
            .string(o["reclaimPolicy"]?.stringValue ?? "Delete")
        },
        Column(name: "VolumeBindingMode", description: "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.") { o, _ in
            .string(o["volumeBindingMode"]?.stringValue ?? "Immediate")
        },
        Column(name: "AllowVolumeExpansion", description: "allowVolumeExpansion shows whether the storage class allow volume expand.") { o, _ in
            .bool(o["allowVolumeExpansion"]?.boolValue ?? false)
        },
        TableConvertor.ageColumn,
    ]
}
