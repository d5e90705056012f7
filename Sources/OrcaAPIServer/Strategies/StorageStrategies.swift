import Foundation
import OrcaAPI

/// PersistentVolumeClaims: volume mode Filesystem, phase Pending on create; access modes and
/// a storage request required; the spec is immutable but for the storage request, the
/// volume name (once) and a storage class name set where there was none (Kubernetes'
/// RetroactiveDefaultStorageClass: the volume binder gives such claims the default class).
struct PersistentVolumeClaimStrategy: ResourceStrategy {
    static let accessModes = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        Self.defaults(&object)
        object["status"] = ["phase": "Pending"]
    }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    static func defaults(_ o: inout JSONValue) {
        guard o["spec"]?.objectValue != nil else { return }
        WorkloadDefaults.setIfMissing(&o, ["spec", "volumeMode"], "Filesystem")
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes = Self.validateSpec(object["spec"], path: "spec")
        if let old {
            func fixed(_ o: JSONValue, volumeName: JSONValue?) -> JSONValue {
                var spec = o["spec"] ?? [:]
                spec[path: ["resources", "requests"]] = nil
                spec["volumeAttributesClassName"] = nil
                spec["volumeName"] = volumeName
                return spec
            }
            let oldName = old[path: ["spec", "volumeName"]]
            let settable = (oldName?.stringValue ?? "").isEmpty
            let newName = settable ? object[path: ["spec", "volumeName"]] : oldName
            var next = object
            if Self.upgradesStorageClassFromNil(object, old: old) { next[path: ["spec", "storageClassName"]] = old[path: ["spec", "storageClassName"]] }
            if fixed(next, volumeName: object[path: ["spec", "volumeName"]]) != fixed(old, volumeName: newName) {
                causes.append(.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
            }
        }
        return causes
    }

    /// `validateStorageClassUpgradeFromNil`: the old claim had no class (neither field nor beta
    /// annotation) and the new one names one.
    static func upgradesStorageClassFromNil(_ object: JSONValue, old: JSONValue) -> Bool {
        let oldClass = old[path: ["spec", "storageClassName"]]
        let newClass = object[path: ["spec", "storageClassName"]]?.stringValue ?? ""
        return old[path: ["metadata", "annotations", "volume.beta.kubernetes.io/storage-class"]] == nil
            && (oldClass == nil || oldClass?.isNull == true) && !newClass.isEmpty
    }

    static func validateSpec(_ spec: JSONValue?, path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        let modes = spec?["accessModes"]?.arrayValue ?? []
        if modes.isEmpty { causes.append(.required("\(path).accessModes", "Required value: at least 1 access mode is required")) }
        for m in modes where !accessModes.contains(m.stringValue ?? "") {
            causes.append(.notSupported("\(path).accessModes", m.stringValue ?? "", accessModes))
        }
        causes += WorkloadValidation.validateSelector(spec?["selector"], path: "\(path).selector")
        if spec?[path: ["resources", "requests", "storage"]] == nil {
            causes.append(.required("\(path).resources[storage]"))
        }
        causes += WorkloadValidation.oneOf(spec?["volumeMode"], "\(path).volumeMode", ["Block", "Filesystem"])
        return causes
    }
}

/// PersistentVolumes: reclaim policy Retain, volume mode Filesystem, phase Pending; access
/// modes, a storage capacity and exactly one volume source required.
struct PersistentVolumeStrategy: ResourceStrategy {
    static let specFields: Set<String> = ["accessModes", "capacity", "claimRef", "mountOptions", "nodeAffinity",
                                          "persistentVolumeReclaimPolicy", "storageClassName", "volumeMode", "volumeAttributesClassName"]

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        Self.defaults(&object)
        object["status"] = ["phase": "Pending", "lastPhaseTransitionTime": .string(KubernetesTime.string(context.now))]
    }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    static func defaults(_ o: inout JSONValue) {
        guard o["spec"]?.objectValue != nil else { return }
        WorkloadDefaults.setIfMissing(&o, ["spec", "persistentVolumeReclaimPolicy"], "Retain")
        WorkloadDefaults.setIfMissing(&o, ["spec", "volumeMode"], "Filesystem")
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        let spec = object["spec"]
        var causes: [StatusCause] = []
        let modes = spec?["accessModes"]?.arrayValue ?? []
        if modes.isEmpty { causes.append(.required("spec.accessModes")) }
        for m in modes where !PersistentVolumeClaimStrategy.accessModes.contains(m.stringValue ?? "") {
            causes.append(.notSupported("spec.accessModes", m.stringValue ?? "", PersistentVolumeClaimStrategy.accessModes))
        }
        let capacity = spec?["capacity"]?.objectValue ?? [:]
        if capacity.isEmpty { causes.append(.required("spec.capacity")) }
        if capacity["storage"] == nil || capacity.count > 1 {
            causes.append(.notSupported("spec.capacity", rendered: GoFormat.describe(.object(capacity)), ["storage"]))
        }
        causes += WorkloadValidation.oneOf(spec?["persistentVolumeReclaimPolicy"], "spec.persistentVolumeReclaimPolicy", ["Delete", "Recycle", "Retain"])
        causes += WorkloadValidation.oneOf(spec?["volumeMode"], "spec.volumeMode", ["Block", "Filesystem"])
        let sources = (spec?.objectValue ?? [:]).filter { !Self.specFields.contains($0.key) && !$0.value.isNull }.keys.sorted()
        if sources.isEmpty {
            causes.append(.required("spec", "Required value: must specify a volume type"))
        } else {
            for extra in sources.dropFirst() {
                causes.append(.forbidden("spec.\(extra)", "may not specify more than 1 volume type"))
            }
        }
        return causes
    }
}
