import Foundation
import OrcaAPI

/// `storage.k8s.io/v1` StorageClasses (Kubernetes' `storage/validation.ValidateStorageClass`
/// and the v1 defaults): `reclaimPolicy` defaults to `Delete` and `volumeBindingMode` to
/// `Immediate`; a provisioner (a qualified name) is required; parameters are bounded; and the
/// provisioner, parameters, reclaim policy and binding mode never change after creation.
struct StorageClassStrategy: ResourceStrategy {
    static let reclaimPolicies = ["Delete", "Retain"]
    static let volumeBindingModes = ["Immediate", "WaitForFirstConsumer"]
    /// `maxProvisionerParameterLen` and `maxProvisionerParameterSize`.
    static let maxParameterCount = 512
    static let maxParameterBytes = 256 * 1024

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws { Self.defaults(&object) }

    /// `SetDefaults_StorageClass`.
    static func defaults(_ o: inout JSONValue) {
        WorkloadDefaults.setIfMissing(&o, ["reclaimPolicy"], "Delete")
        WorkloadDefaults.setIfMissing(&o, ["volumeBindingMode"], "Immediate")
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes: [StatusCause] = []
        let provisioner = object["provisioner"]?.stringValue ?? ""
        if provisioner.isEmpty {
            causes.append(.required("provisioner"))
        } else {
            causes += Self.validateQualifiedName(provisioner.lowercased(), field: "provisioner")
        }
        causes += Self.validateParameters(object["parameters"])
        if let policy = object["reclaimPolicy"]?.stringValue, !policy.isEmpty, !Self.reclaimPolicies.contains(policy) {
            causes.append(.notSupported("reclaimPolicy", policy, Self.reclaimPolicies))
        }
        let mode = object["volumeBindingMode"]?.stringValue ?? ""
        if mode.isEmpty {
            causes.append(.required("volumeBindingMode"))
        } else if !Self.volumeBindingModes.contains(mode) {
            causes.append(.notSupported("volumeBindingMode", mode, Self.volumeBindingModes))
        }
        if let old {
            // `ValidateStorageClassUpdate`.
            if (old["parameters"]?.objectValue ?? [:]) != (object["parameters"]?.objectValue ?? [:]) {
                causes.append(.forbidden("parameters", "updates to parameters are forbidden."))
            }
            if old["provisioner"]?.stringValue ?? "" != provisioner {
                causes.append(.forbidden("provisioner", "updates to provisioner are forbidden."))
            }
            if old["reclaimPolicy"]?.stringValue ?? "" != object["reclaimPolicy"]?.stringValue ?? "" {
                causes.append(.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
            }
            if old["volumeBindingMode"]?.stringValue ?? "" != mode {
                causes.append(.invalid("volumeBindingMode", mode, "field is immutable"))
            }
        }
        return causes
    }

    /// `validateParameters`: at most 512 entries and 256 KiB of keys and values, no empty key.
    static func validateParameters(_ parameters: JSONValue?) -> [StatusCause] {
        let params = parameters?.objectValue ?? [:]
        if params.count > maxParameterCount {
            return [StatusCause("FieldValueTooLong", field: "parameters", "parameters: Too long: may not be more than \(maxParameterCount) bytes")]
        }
        var causes: [StatusCause] = []
        var size = 0
        for (k, v) in params.sorted(by: { $0.key < $1.key }) {
            if k.isEmpty { causes.append(.invalid("parameters", k, "field can not be empty.")) }
            size += k.utf8.count + (v.stringValue ?? "").utf8.count
        }
        if size > maxParameterBytes {
            causes.append(StatusCause("FieldValueTooLong", field: "parameters", "parameters: Too long: may not be more than \(maxParameterBytes) bytes"))
        }
        return causes
    }

    static let qualifiedNameFormat = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
    static let qualifiedNameRegex = "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

    /// `validation.IsQualifiedName`: an optional DNS-subdomain prefix and `/`, then a name of
    /// at most 63 alphanumeric, `-`, `_` or `.` characters starting and ending alphanumeric.
    static func validateQualifiedName(_ value: String, field: String) -> [StatusCause] {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let name: String
        var causes: [StatusCause] = []
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            name = parts[1]
            if parts[0].isEmpty {
                causes.append(.invalid(field, value, "prefix part must be non-empty"))
            } else if !ObjectMetaRules.isDNS1123Subdomain(parts[0]) {
                causes.append(.invalid(field, value, "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))
            }
        default:
            return [.invalid(field, value, "a qualified name \(qualifiedNameFormat) \(qualifiedNameRegex) with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")]
        }
        if name.isEmpty {
            causes.append(.invalid(field, value, "name part must be non-empty"))
        } else if name.count > 63 {
            causes.append(.invalid(field, value, "name part must be no more than 63 characters"))
        }
        if !name.isEmpty, !isQualifiedNamePart(name) {
            causes.append(.invalid(field, value, "name part \(qualifiedNameFormat) \(qualifiedNameRegex)"))
        }
        return causes
    }

    static func isQualifiedNamePart(_ s: String) -> Bool {
        func alphanumeric(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
        guard let first = s.first, let last = s.last, alphanumeric(first), alphanumeric(last) else { return false }
        return s.allSatisfy { alphanumeric($0) || "-_.".contains($0) }
    }
}
