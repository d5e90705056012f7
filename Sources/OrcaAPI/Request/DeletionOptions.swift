import OrcaCore

/// Options of a delete (`DeletionOptions` body or query).
public struct DeletionOptions: Sendable {
    public var gracePeriodSeconds: Int64?
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?
    public var propagationPolicy: String?
    public var dryRun = false

    public init() {}

    public init(body: JSONValue?, query: [String: String]) {
        gracePeriodSeconds = body?["gracePeriodSeconds"]?.intValue ?? query["gracePeriodSeconds"].flatMap { Int64($0) }
        preconditionUID = body?[path: ["preconditions", "uid"]]?.stringValue
        preconditionResourceVersion = body?[path: ["preconditions", "resourceVersion"]]?.stringValue
        propagationPolicy = body?["propagationPolicy"]?.stringValue ?? query["propagationPolicy"]
        dryRun = (body?["dryRun"]?.arrayValue?.isEmpty == false) || query["dryRun"] == "All"
    }
}
