import Foundation
import OrcaAPI

/// The parts of a webhook kube-apiserver validates one by one: rules, the client
/// configuration (URL or Service), AdmissionReview versions and match conditions.
extension WebhookConfigurationStrategy {
    /// The AdmissionReview versions the API server sends (`AcceptedAdmissionReviewVersions`).
    static let acceptedReviewVersions = ["v1", "v1beta1"]
    static let operations = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"]
    static let scopes = ["*", "Cluster", "Namespaced"]
    static let urlForm = "; desired format: https://host[/path]"

    /// `validateRuleWithOperations`: operations, API groups, versions, resources and scope.
    static func validateRule(_ rule: JSONValue, path: String) -> [StatusCause] {
        func list(_ key: String) -> [String] { rule[key]?.arrayValue?.map { $0.stringValue ?? "" } ?? [] }
        var causes: [StatusCause] = []
        let operations = list("operations")
        if operations.isEmpty { causes.append(.required("\(path).operations")) }
        if operations.count > 1, operations.contains("*") {
            causes.append(.invalidValue("\(path).operations", rendered: GoFormat.stringSlice(rule["operations"]),
                                        "if '*' is present, must not specify other operations"))
        }
        for (i, op) in operations.enumerated() where !Self.operations.contains(op) {
            causes.append(.notSupported("\(path).operations[\(i)]", op, Self.operations))
        }
        let groups = list("apiGroups")
        if groups.isEmpty { causes.append(.required("\(path).apiGroups")) }
        if groups.count > 1, groups.contains("*") {
            causes.append(.invalidValue("\(path).apiGroups", rendered: GoFormat.stringSlice(rule["apiGroups"]),
                                        "if '*' is present, must not specify other API groups"))
        }
        let versions = list("apiVersions")
        if versions.isEmpty { causes.append(.required("\(path).apiVersions")) }
        if versions.count > 1, versions.contains("*") {
            causes.append(.invalidValue("\(path).apiVersions", rendered: GoFormat.stringSlice(rule["apiVersions"]),
                                        "if '*' is present, must not specify other API versions"))
        }
        for (i, v) in versions.enumerated() where v.isEmpty { causes.append(.required("\(path).apiVersions[\(i)]")) }
        causes += validateResources(list("resources"), rendered: GoFormat.stringSlice(rule["resources"]), path: "\(path).resources")
        if let scope = rule["scope"]?.stringValue, !scopes.contains(scope) {
            causes.append(.notSupported("\(path).scope", scope, scopes))
        }
        return causes
    }

    /// `validateResources`: `resource`, `resource/subresource`, `*`, `*/*`, `resource/*` and
    /// `*/subresource`, without overlapping wildcards.
    static func validateResources(_ resources: [String], rendered: String, path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        if resources.isEmpty { causes.append(.required(path)) }
        var withWildcardSubresource: Set<String> = []
        var subresourcesWithWildcardResource: Set<String> = []
        var doubleWildcard = false, singleWildcard = false, withoutSubresource = false
        for (i, entry) in resources.enumerated() {
            if entry.isEmpty {
                causes.append(.required("\(path)[\(i)]"))
                continue
            }
            if entry == "*/*" { doubleWildcard = true }
            if entry == "*" { singleWildcard = true }
            let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else {
                withoutSubresource = entry != "*"
                continue
            }
            let (resource, subresource) = (parts[0], parts[1])
            if withWildcardSubresource.contains(resource) {
                causes.append(.invalid("\(path)[\(i)]", entry, "if '\(resource)/*' is present, must not specify \(entry)"))
            }
            if subresourcesWithWildcardResource.contains(subresource) {
                causes.append(.invalid("\(path)[\(i)]", entry, "if '*/\(subresource)' is present, must not specify \(entry)"))
            }
            if subresource == "*" { withWildcardSubresource.insert(resource) }
            if resource == "*" { subresourcesWithWildcardResource.insert(subresource) }
        }
        if resources.count > 1, doubleWildcard {
            causes.append(.invalidValue(path, rendered: rendered, "if '*/*' is present, must not specify other resources"))
        }
        if singleWildcard, withoutSubresource {
            causes.append(.invalidValue(path, rendered: rendered, "if '*' is present, must not specify other resources without subresources"))
        }
        return causes
    }

    /// Exactly one of `url` and `service`, each well-formed; `caBundle` base64.
    static func validateClientConfig(_ config: JSONValue?, path: String) -> [StatusCause] {
        let url = config?["url"].flatMap { $0.isNull ? nil : $0 }
        let service = config?["service"].flatMap { $0.isNull ? nil : $0 }
        var causes: [StatusCause] = []
        switch (url, service) {
        case (let url?, nil): causes += validateURL(url.stringValue ?? "", field: "\(path).url")
        case (nil, let service?): causes += validateService(service, path: "\(path).service")
        default: causes.append(.required(path, "Required value: exactly one of url or service is required"))
        }
        if let bundle = config?["caBundle"]?.stringValue, !bundle.isEmpty, Data(base64Encoded: bundle) == nil {
            causes.append(.invalid("\(path).caBundle", "<bytes>", "illegal base64 data"))
        }
        return causes
    }

    /// `ValidateWebhookURL` with `https` required: a host, no user, query or fragment.
    static func validateURL(_ text: String, field: String) -> [StatusCause] {
        guard let url = URLComponents(string: text) else {
            return [.required(field, "Required value: url must be a valid URL: parse \(GoFormat.quote(text)): invalid URL\(urlForm)")]
        }
        var causes: [StatusCause] = []
        let scheme = url.scheme?.lowercased() ?? ""
        if scheme != "https" { causes.append(.invalid(field, scheme, "'https' is the only allowed URL scheme\(urlForm)")) }
        if (url.host ?? "").isEmpty { causes.append(.invalid(field, "", "host must be provided\(urlForm)")) }
        if let user = url.percentEncodedUser {
            let info = url.percentEncodedPassword.map { "\(user):\($0)" } ?? user
            causes.append(.invalid(field, info, "user information is not permitted in the URL"))
        }
        if let fragment = url.fragment, !fragment.isEmpty {
            causes.append(.invalid(field, fragment, "fragments are not permitted in the URL"))
        }
        if let query = url.percentEncodedQuery, !query.isEmpty {
            causes.append(.invalid(field, query, "query parameters are not permitted in the URL"))
        }
        return causes
    }

    /// `ValidateWebhookService`: name, namespace, a port in 1–65535 and a path of DNS-subdomain
    /// segments.
    static func validateService(_ service: JSONValue, path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        if (service["name"]?.stringValue ?? "").isEmpty { causes.append(.required("\(path).name", "Required value: service name is required")) }
        if (service["namespace"]?.stringValue ?? "").isEmpty {
            causes.append(.required("\(path).namespace", "Required value: service namespace is required"))
        }
        let port = service["port"]?.intValue ?? 443
        if !(1...65535).contains(port) {
            causes.append(.invalid("\(path).port", number: port, "port is not valid: must be between 1 and 65535, inclusive"))
        }
        guard let urlPath = service["path"]?.stringValue, urlPath != "/", !urlPath.isEmpty else { return causes }
        let field = "\(path).path"
        if urlPath == "//" { return causes + [.invalid(field, urlPath, "segment[0] may not be empty")] }
        if !urlPath.hasPrefix("/") { causes.append(.invalid(field, urlPath, "must start with a '/'")) }
        var rest = String(urlPath.dropFirst())
        if rest.hasSuffix("/") { rest.removeLast() }
        for (i, step) in rest.split(separator: "/", omittingEmptySubsequences: false).enumerated() {
            if step.isEmpty {
                causes.append(.invalid(field, urlPath, "segment[\(i)] may not be empty"))
            } else if step.count > 253 {
                causes.append(.invalid(field, urlPath, "segment[\(i)]: must be no more than 253 characters"))
            } else if !ObjectMetaRules.isDNS1123Subdomain(String(step)) {
                causes.append(.invalid(field, urlPath, "segment[\(i)]: \(dns1123SubdomainFormat)"))
            }
        }
        return causes
    }

    /// `validateAdmissionReviewVersions`: required, unique DNS-1035 labels, one the server sends.
    static func validateReviewVersions(_ value: JSONValue?, path: String, requireRecognized: Bool) -> [StatusCause] {
        let versions = value?.arrayValue?.map { $0.stringValue ?? "" } ?? []
        if versions.isEmpty {
            return [.required(path, "Required value: must specify one of \(acceptedReviewVersions.joined(separator: ", "))")]
        }
        var causes: [StatusCause] = []
        var seen: Set<String> = []
        for (i, v) in versions.enumerated() {
            guard seen.insert(v).inserted else {
                causes.append(.invalid("\(path)[\(i)]", v, "duplicate version"))
                continue
            }
            if v.utf8.count > 63 { causes.append(.invalid("\(path)[\(i)]", v, "must be no more than 63 characters")) }
            if !isDNS1035Label(v) {
                causes.append(.invalid("\(path)[\(i)]", v, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"))
            }
        }
        if requireRecognized, !versions.contains(where: acceptedReviewVersions.contains) {
            causes.append(.invalidValue(path, rendered: GoFormat.stringSlice(value),
                                        "must include at least one of \(acceptedReviewVersions.joined(separator: ", "))"))
        }
        return causes
    }

    /// `[a-z]([-a-z0-9]*[a-z0-9])?`.
    static func isDNS1035Label(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        func lower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7a }
        func digit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        guard let first = bytes.first, let last = bytes.last, lower(first), lower(last) || digit(last) else { return false }
        return bytes.allSatisfy { lower($0) || digit($0) || $0 == UInt8(ascii: "-") }
    }

    /// `validateMatchConditions`: at most 64, each with a qualified, unique name and an
    /// expression. The CEL expressions are not compiled: Orca does not evaluate them.
    static func validateMatchConditions(_ value: JSONValue?, path: String) -> [StatusCause] {
        let conditions = value?.arrayValue ?? []
        if conditions.count > 64 {
            return [StatusCause("FieldValueTooMany", field: path, "\(path): Too many: \(conditions.count): must have at most 64 items")]
        }
        var causes: [StatusCause] = []
        var names: Set<String> = []
        for (i, condition) in conditions.enumerated() {
            let expression = condition["expression"]?.stringValue ?? ""
            if expression.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                causes.append(.required("\(path)[\(i)].expression"))
            }
            let name = condition["name"]?.stringValue ?? ""
            if name.isEmpty {
                causes.append(.required("\(path)[\(i)].name"))
            } else {
                causes += StorageClassStrategy.validateQualifiedName(name, field: "\(path)[\(i)].name")
                if !names.insert(name).inserted { causes.append(.duplicate("\(path)[\(i)].name", name)) }
            }
        }
        return causes
    }
}
