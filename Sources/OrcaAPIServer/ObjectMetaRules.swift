import Foundation
import OrcaAPI

/// Metadata rules every resource shares: name formats, immutable fields, timestamps.
enum ObjectMetaRules {
    /// RFC 3339 with second precision, as Kubernetes writes `metav1.Time`.

    /// RFC 3339 with microseconds (`metav1.MicroTime`).

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`, at most 253 characters.
    static func isDNS1123Subdomain(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy(isLabelBytes)
    }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
    static func isDNS1123Label(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        return bytes.count <= 63 && isLabelBytes(bytes[...])
    }

    private static func isLabelBytes(_ part: ArraySlice<UInt8>) -> Bool {
        func alphanumeric(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
        guard let first = part.first, let last = part.last, alphanumeric(first), alphanumeric(last) else { return false }
        return part.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// Resources whose names must be DNS labels rather than subdomains.
    static let labelNamed: Set<String> = ["namespaces", "services"]
    /// Resources whose names need only be path segments (`system:node`), as RBAC's are.
    static let pathSegmentNamed: Set<String> = [
        "roles.rbac.authorization.k8s.io", "clusterroles.rbac.authorization.k8s.io",
        "rolebindings.rbac.authorization.k8s.io", "clusterrolebindings.rbac.authorization.k8s.io",
    ]

    /// `ValidatePathSegmentName`: not `.` or `..`, no `/` or `%`.
    static func pathSegmentErrors(_ name: String) -> String? {
        if name == "." || name == ".." { return "may not be '\(name)'" }
        if name.contains("/") { return "may not contain '/'" }
        if name.contains("%") { return "may not contain '%'" }
        return nil
    }

    /// Validates metadata of any object.
    static func validate(_ object: JSONValue, resource: ResourceType) -> [StatusCause] {
        var causes: [StatusCause] = []
        let name = object.metadataName ?? ""
        if name.isEmpty {
            causes.append(.required("metadata.name", "name or generateName is required"))
        } else if pathSegmentNamed.contains(resource.groupResource) {
            if let problem = pathSegmentErrors(name) { causes.append(.invalid("metadata.name", name, problem)) }
        } else if labelNamed.contains(resource.resource) {
            if !isDNS1123Label(name) {
                causes.append(.invalid("metadata.name", name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"))
            }
        } else if !isDNS1123Subdomain(name), resource.resource != "events" {
            causes.append(.invalid("metadata.name", name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))
        }
        for (k, v) in object[path: ["metadata", "labels"]]?.objectValue ?? [:] {
            let value = v.stringValue ?? ""
            let keyName = k.split(separator: "/").last.map(String.init) ?? k
            if keyName.isEmpty || keyName.count > 63 || !(keyName.first!.isLetter || keyName.first!.isNumber) ||
                !(keyName.last!.isLetter || keyName.last!.isNumber) ||
                !keyName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
                causes.append(.invalid("metadata.labels", k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"))
            }
            if v.stringValue == nil || value.count > 63 ||
                !value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) ||
                (!value.isEmpty && (!(value.first!.isLetter || value.first!.isNumber) || !(value.last!.isLetter || value.last!.isNumber))) {
                causes.append(.invalid("metadata.labels", value, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"))
            }
        }
        return causes
    }

    /// Copies what the client may never change from the stored object into an update.
    static func carryOver(_ new: inout JSONValue, from old: JSONValue) {
        for key in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
            new[path: ["metadata", key]] = old[path: ["metadata", key]]
        }
        if new[path: ["metadata", "deletionTimestamp"]]?.isNull == true { new[path: ["metadata", "deletionTimestamp"]] = nil }
    }

    /// The object without metadata and status: what `generation` tracks.
    static func specPart(_ object: JSONValue) -> JSONValue {
        guard case .object(var o) = object else { return object }
        o["metadata"] = nil
        o["status"] = nil
        o["apiVersion"] = nil
        o["kind"] = nil
        return .object(o)
    }
}
