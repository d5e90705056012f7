import Foundation
import OrcaAPI

/// A resource served over the storage of another, converting objects on the way in and
/// out — as Kubernetes serves `events.k8s.io/v1` Events from the core/v1 Event storage,
/// so an event written through either API is read through both.
struct StorageView: Sendable {
    /// The resource whose objects are stored.
    var storage: ResourceType
    /// Stored object → the served resource's form.
    var toView: @Sendable (JSONValue) -> JSONValue
    /// The served resource's form → stored object.
    var toStorage: @Sendable (JSONValue) -> JSONValue
    /// A field selector in the served resource's field names → the stored ones.
    var storageSelector: @Sendable (FieldMatcher) -> FieldMatcher

    /// The view for `r`, or nil if `r` is stored as itself.
    static func of(_ r: ResourceType, catalog: ResourceCatalog) -> StorageView? {
        guard r.group == "events.k8s.io", r.resource == "events",
              let core = catalog.resource(group: "", version: "v1", resource: "events") else { return nil }
        return StorageView(storage: core, toView: { EventsV1Conversion.toV1($0, apiVersion: r.apiVersion) },
                           toStorage: EventsV1Conversion.toCore, storageSelector: EventsV1Conversion.coreSelector)
    }
}

/// Field mapping between `events.k8s.io/v1` Event and core/v1 Event (Kubernetes'
/// `pkg/apis/events/v1` conversion).
enum EventsV1Conversion {
    /// (events.k8s.io/v1 field, core/v1 field); metadata, type, reason, action, related,
    /// series, eventTime and reportingInstance are the same in both.
    static let renamed: [(String, String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count"),
    ]

    static func toV1(_ core: JSONValue, apiVersion: String) -> JSONValue {
        guard case .object(var o) = core else { return core }
        for (v1, c) in renamed {
            let value = o.removeValue(forKey: c)
            o[v1] = value
        }
        o["apiVersion"] = .string(apiVersion)
        o["kind"] = "Event"
        return .object(o)
    }

    static func toCore(_ v1: JSONValue) -> JSONValue {
        guard case .object(var o) = v1 else { return v1 }
        for (v1Name, c) in renamed {
            let value = o.removeValue(forKey: v1Name)
            o[c] = value
        }
        o["apiVersion"] = "v1"
        o["kind"] = "Event"
        return .object(o)
    }

    /// `regarding.name=x` → `involvedObject.name=x`, and so on.
    static func coreSelector(_ selector: FieldMatcher) -> FieldMatcher {
        var s = selector
        for i in s.requirements.indices {
            let field = s.requirements[i].field
            for (v1, c) in renamed where field == v1 || field.hasPrefix(v1 + ".") {
                s.requirements[i].field = c + field.dropFirst(v1.count)
            }
        }
        return s
    }

    /// The checks Kubernetes makes only for events created through events.k8s.io/v1.
    static func validateCreate(_ v1: JSONValue) -> [StatusCause] {
        var causes: [StatusCause] = []
        if v1["eventTime"]?.stringValue?.isEmpty ?? true { causes.append(.required("eventTime")) }
        for field in ["reportingController", "reportingInstance", "action", "reason"]
            where v1[field]?.stringValue?.isEmpty ?? true {
            causes.append(.required(field))
        }
        let type = v1["type"]?.stringValue ?? ""
        if type != "Normal", type != "Warning" { causes.append(.notSupported("type", type, ["Normal", "Warning"])) }
        return causes
    }
}
