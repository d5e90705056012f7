import Foundation
import OrcaAPI

/// core/v1 Events (`legacyValidateEvent`): the involved object's namespace must match, and
/// new-style events (with `eventTime`) need their reporter, action and reason.
/// (events.k8s.io/v1 Events are stored as these; their own rules run where they are converted.)
struct EventStrategy: ResourceStrategy {
    static let reportingInstanceLimit = 128
    static let actionLimit = 128
    static let reasonLimit = 128
    static let noteLimit = 1024

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        Self.legacy(object, reportingField: "reportingComponent")
    }

    static func isSet(_ v: JSONValue?) -> Bool {
        guard let v, !v.isNull else { return false }
        if let s = v.stringValue { return !s.isEmpty }
        return true
    }

    static func legacy(_ e: JSONValue, reportingField: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        let namespace = e.metadataNamespace ?? ""
        let involved = e[path: ["involvedObject", "namespace"]]?.stringValue ?? ""
        func str(_ k: String) -> String { e[k]?.stringValue ?? "" }
        if !isSet(e["eventTime"]) {
            if involved.isEmpty ? !(namespace.isEmpty || namespace == "default") : namespace != involved {
                causes.append(.invalid("involvedObject.namespace", involved, "does not match event.namespace"))
            }
        } else {
            if involved.isEmpty, namespace != "default", namespace != "kube-system" {
                causes.append(.invalid("involvedObject.namespace", involved, "does not match event.namespace"))
            }
            if str("reportingComponent").isEmpty { causes.append(.required(reportingField)) }
            if str("reportingInstance").isEmpty { causes.append(.required("reportingInstance")) }
            if str("reportingInstance").count > reportingInstanceLimit {
                causes.append(.invalid("reportingInstance", "", "can have at most \(reportingInstanceLimit) characters"))
            }
            if str("action").isEmpty { causes.append(.required("action")) }
            if str("action").count > actionLimit { causes.append(.invalid("action", "", "can have at most \(actionLimit) characters")) }
            if str("reason").isEmpty { causes.append(.required("reason")) }
            if str("reason").count > reasonLimit { causes.append(.invalid("reason", "", "can have at most \(reasonLimit) characters")) }
            if str("message").count > noteLimit { causes.append(.invalid("message", "", "can have at most \(noteLimit) characters")) }
        }
        if !namespace.isEmpty, !ObjectMetaRules.isDNS1123Subdomain(namespace) {
            causes.append(.invalid("namespace", namespace, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))
        }
        return causes
    }
}
