import OrcaCore

/// Accessors for the `metadata` of an object held as JSON.
extension JSONValue {
    public var metadataName: String? {
        get { self[path: ["metadata", "name"]]?.stringValue }
        set { self[path: ["metadata", "name"]] = newValue.map(JSONValue.string) }
    }
    public var metadataNamespace: String? {
        get { self[path: ["metadata", "namespace"]]?.stringValue }
        set { self[path: ["metadata", "namespace"]] = newValue.map(JSONValue.string) }
    }
    public var metadataUID: String? { self[path: ["metadata", "uid"]]?.stringValue }
    public var resourceVersion: String? {
        get { self[path: ["metadata", "resourceVersion"]]?.stringValue }
        set { self[path: ["metadata", "resourceVersion"]] = newValue.map(JSONValue.string) }
    }
    public var labels: [String: String] {
        (self[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }
    public var finalizers: [String] {
        self[path: ["metadata", "finalizers"]]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
    public var deletionTimestamp: String? { self[path: ["metadata", "deletionTimestamp"]]?.stringValue }
    public var kind: String? { self["kind"]?.stringValue }
    public var apiVersion: String? { self["apiVersion"]?.stringValue }
}
