import OrcaAPI

/// What a write asks, as admission sees it (kube-apiserver's `admission.Attributes`).
public struct AdmissionAttributes: Sendable {
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`, as in `AdmissionReview`.
    public enum Operation: String, Sendable {
        case create = "CREATE", update = "UPDATE", delete = "DELETE", connect = "CONNECT"
    }

    public var resource: ResourceType
    /// `status`, `scale`, `binding`, `eviction`, `exec` … (nil for the main resource).
    public var subresource: String?
    public var operation: Operation
    /// The namespace (nil for cluster-scoped resources).
    public var namespace: String?
    /// The object's name (empty on a create with `generateName`).
    public var name: String
    /// The object as it will be stored (nil on delete). Mutating admission may change it.
    public var object: JSONValue?
    /// The stored object (update and delete).
    public var oldObject: JSONValue?
    /// Who asks; nil for the API server's own writes (controllers inside `orca server`).
    public var user: UserInfo?
    public var dryRun: Bool

    public init(resource: ResourceType, subresource: String? = nil, operation: Operation, namespace: String?, name: String,
                object: JSONValue?, oldObject: JSONValue? = nil, user: UserInfo?, dryRun: Bool = false) {
        self.resource = resource
        self.subresource = subresource
        self.operation = operation
        self.namespace = namespace
        self.name = name
        self.object = object
        self.oldObject = oldObject
        self.user = user
        self.dryRun = dryRun
    }
}
