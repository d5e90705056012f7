/// What a strategic merge (and server-side apply) needs to know of an object's schema: how
/// each field merges. Built-in kinds answer from the bundled OpenAPI definitions
/// (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`); custom resources from
/// their structural schema (`x-kubernetes-list-type: map|set`, `x-kubernetes-list-map-keys`).
public protocol MergeSchema: Sendable {
    /// How `property` of an object of this schema merges; nil when the schema does not say
    /// (its value is replaced).
    func mergeField(_ property: String) -> MergeField?
}

/// How one field merges.
public struct MergeField: Sendable {
    /// The schema of the value (of the items of a list, of the values of a map), when it is
    /// an object with fields of its own.
    public var schema: (any MergeSchema)?
    public var isList: Bool
    /// A map of free keys (`additionalProperties`), as labels are.
    public var isMap: Bool
    /// A list merged with the patch's items rather than replaced by them.
    public var mergesList: Bool
    /// The keys that identify an item of a merged list of objects (none: a set of values).
    public var mergeKeys: [String]

    public init(schema: (any MergeSchema)?, isList: Bool, isMap: Bool, mergesList: Bool, mergeKeys: [String]) {
        self.schema = schema
        self.isList = isList
        self.isMap = isMap
        self.mergesList = mergesList
        self.mergeKeys = mergeKeys
    }
}

/// A built-in kind's definition in the bundled OpenAPI schema, as a merge schema.
public struct OpenAPIMergeSchema: MergeSchema {
    /// The definition name (`io.k8s.api.core.v1.Pod`).
    public var definition: String

    public init(definition: String) { self.definition = definition }

    /// The definition of a kind, or nil when the bundled schema has none.
    public init?(apiVersion: String, kind: String) {
        guard let name = OpenAPISchema.definitionName(apiVersion: apiVersion, kind: kind) else { return nil }
        definition = name
    }

    public func mergeField(_ property: String) -> MergeField? {
        guard let f = OpenAPISchema.field(definition, property) else { return nil }
        return MergeField(schema: f.definition.map(OpenAPIMergeSchema.init(definition:)), isList: f.isList, isMap: f.isMap,
                          mergesList: f.patchStrategy?.contains("merge") == true, mergeKeys: f.mergeKey.map { [$0] } ?? [])
    }
}
