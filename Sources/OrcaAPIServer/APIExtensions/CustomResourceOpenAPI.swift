import OrcaAPI

/// The OpenAPI definitions of one served version of a custom resource, as apiextensions-apiserver's
/// `controller/openapi/builder` publishes them: the version's schema (kube-openapi's `ToKubeOpenAPI` of
/// the unfolded structural schema; for v2 also `ToStructuralOpenAPIV2` and `PruneDefaults`) with
/// `apiVersion`, `kind` and `metadata` added, `x-kubernetes-group-version-kind` and
/// `x-kubernetes-selectable-fields`, and the list kind. The stored schema of an established definition
/// passed CRD validation, so it is taken as structural.
struct CustomResourceOpenAPI: Sendable {
    /// The custom resource.
    let resource: CustomResource
    /// One of its served versions (`resource.resourceTypes`).
    let type: ResourceType

    init(_ resource: CustomResource, _ type: ResourceType) {
        self.resource = resource
        self.type = type
    }

    /// `com.example.stable.v1.CronTab`: the group's labels reversed, then version and kind
    /// (kube-openapi's `ToRESTFriendlyName` of `stable.example.com/v1.CronTab`).
    static func definitionName(group: String, version: String, kind: String) -> String {
        let reversed = group.split(separator: ".", omittingEmptySubsequences: false).reversed().joined(separator: ".")
        return group.isEmpty ? "\(version).\(kind)" : "\(reversed).\(version).\(kind)"
    }

    /// The definition of the kind in this version.
    var definitionName: String { Self.definitionName(group: type.group, version: type.version, kind: resource.kind) }
    /// The definition of the list kind in this version.
    var listDefinitionName: String { Self.definitionName(group: type.group, version: type.version, kind: resource.listKind) }

    /// `apiVersion|Kind` → definition, shaped as `OpenAPIDocuments.paths` looks kinds and their lists up.
    var kindIndex: [String: String] {
        [type.apiVersion + "|" + type.kind: definitionName, type.apiVersion + "|" + type.kind + "List": listDefinitionName]
    }

    /// The kind's and the list kind's definitions, referring to others as `#/definitions/…` (`v2`)
    /// or `#/components/schemas/…`.
    func definitions(v2: Bool) -> [String: JSONValue] {
        [definitionName: objectSchema(v2: v2), listDefinitionName: listSchema(v2: v2)]
    }

    // MARK: The kind

    /// The version as written in the definition.
    private var version: CustomResourceDefinitionVersion? {
        resource.definition.spec?.versions?.first { $0.name == type.version }
    }

    /// `buildKubeNative`: the published schema with type and object meta, or a bare object when there is
    /// no schema (or, for v2, it preserves unknown fields at the root, which kubectl could not validate).
    func objectSchema(v2: Bool) -> JSONValue {
        let raw = version?.schema?.openAPIV3Schema.flatMap(Self.published)
        var schema: JSONValue
        if var s = raw, !(v2 && (s["x-kubernetes-preserve-unknown-fields"] == true
                                 || resource.definition.spec?.preserveUnknownFields == true)) {
            Self.unfold(&s)
            if v2 { Self.toV2(&s) }
            s[path: ["properties", "metadata"]] = Self.ref(Self.objectMeta, v2: v2, description: Self.objectMetaDescription)
            s[path: ["properties", "apiVersion"]] = ["type": "string", "description": .string(Self.apiVersionDescription)]
            s[path: ["properties", "kind"]] = ["type": "string", "description": .string(Self.kindDescription)]
            Self.addEmbeddedProperties(&s, v2: v2)
            if v2 { Self.pruneDefaults(&s) }
            schema = s
        } else {
            schema = ["type": "object"]
        }
        schema["x-kubernetes-group-version-kind"] = [["group": .string(type.group), "version": .string(type.version),
                                                      "kind": .string(resource.kind)]]
        let selectable = (version?.selectableFields ?? []).compactMap(\.jsonPath).map { path -> JSONValue in
            ["fieldPath": .string(path.hasPrefix(".") ? String(path.dropFirst()) : path)]
        }
        if !selectable.isEmpty { schema["x-kubernetes-selectable-fields"] = .array(selectable) }
        return schema
    }

    /// `buildListSchema`.
    func listSchema(v2: Bool) -> JSONValue {
        let prefix = v2 ? "#/definitions/" : "#/components/schemas/"
        let items: JSONValue = [
            "type": "array", "items": ["$ref": .string(prefix + definitionName)],
            "description": .string("List of \(resource.plural). More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"),
        ]
        return [
            "type": "object", "description": .string("\(resource.listKind) is a list of \(resource.kind)"),
            "required": ["items"],
            "properties": [
                "apiVersion": ["type": "string", "description": .string(Self.apiVersionDescription)],
                "kind": ["type": "string", "description": .string(Self.kindDescription)],
                "items": items,
                "metadata": Self.ref(Self.listMeta, v2: v2, description: Self.listMetaDescription),
            ],
            "x-kubernetes-group-version-kind": [["group": .string(type.group), "version": .string(type.version),
                                                 "kind": .string(resource.listKind)]],
        ]
    }

    static let objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    static let listMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
    static let conventions = "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"
    static let apiVersionDescription = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: \(conventions)#resources"
    static let kindDescription = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: \(conventions)#types-kinds"
    static let objectMetaDescription = "Standard object's metadata. More info: \(conventions)#metadata"
    static let listMetaDescription = "Standard list metadata. More info: \(conventions)#metadata"

    /// A reference with a description: v2 puts both side by side, v3 wraps the reference in `allOf`
    /// (kube-openapi's builder3).
    static func ref(_ name: String, v2: Bool, description: String) -> JSONValue {
        v2 ? ["$ref": .string("#/definitions/\(name)"), "description": .string(description)]
            : ["allOf": [["$ref": .string("#/components/schemas/\(name)")]], "description": .string(description)]
    }

    // MARK: Schema passes

    /// Keywords kept as strings, numbers, and flags only when true (what the structural schema holds and
    /// `ToKubeOpenAPI` writes back; everything else of the stored schema is dropped).
    static let stringKeys: Set = ["type", "description", "title", "format", "pattern", "x-kubernetes-list-type", "x-kubernetes-map-type"]
    static let numberKeys: Set = ["maximum", "minimum", "multipleOf", "maxLength", "minLength", "maxItems", "minItems",
                                  "maxProperties", "minProperties"]
    static let flagKeys: Set = ["nullable", "exclusiveMaximum", "exclusiveMinimum", "uniqueItems", "x-kubernetes-preserve-unknown-fields",
                                "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string"]
    static let listKeys: Set = ["enum", "required", "x-kubernetes-list-map-keys", "x-kubernetes-validations"]

    /// The schema node as the structural schema round-trips it, or nil for a node that is not an object.
    static func published(_ node: JSONValue) -> JSONValue? {
        guard let o = node.objectValue else { return nil }
        var out: [String: JSONValue] = [:]
        for (key, value) in o {
            switch (key, value) {
            case ("default", _): if !value.isNull { out[key] = value }
            case (_, .string(let s)) where stringKeys.contains(key) && !s.isEmpty: out[key] = value
            case (_, .int), (_, .double): if numberKeys.contains(key) { out[key] = value }
            case (_, .bool(true)) where flagKeys.contains(key): out[key] = value
            case (_, .array(let a)) where listKeys.contains(key) && !a.isEmpty: out[key] = value
            case ("externalDocs", .object(let d)):
                let docs = d.filter { ($0.key == "description" || $0.key == "url") && $0.value.stringValue?.isEmpty == false }
                if !docs.isEmpty { out[key] = .object(docs) }
            case ("allOf", .array(let a)), ("anyOf", .array(let a)), ("oneOf", .array(let a)):
                let schemas = a.compactMap(published)
                if !schemas.isEmpty { out[key] = .array(schemas) }
            case ("not", _), ("items", _): out[key] = published(value)
            case ("properties", .object(let p)) where !p.isEmpty: out[key] = .object(p.compactMapValues(published))
            case ("additionalProperties", .bool): out[key] = value
            case ("additionalProperties", .object): out[key] = published(value)
            default: break
            }
        }
        return .object(out)
    }

    /// Applies `body` to the structural children of a node: property schemas, `items` and an
    /// `additionalProperties` schema.
    static func forEachChild(_ node: inout JSONValue, _ body: (inout JSONValue) -> Void) {
        guard case .object(var o) = node else { return }
        node = .null  // keeps `o` uniquely referenced while it changes
        if case .object(var properties)? = o["properties"] {
            for key in Array(properties.keys) { body(&properties[key]!) }
            o["properties"] = .object(properties)
        }
        for key in ["items", "additionalProperties"] {
            if case .object? = o[key] { body(&o[key]!) }
        }
        node = .object(o)
    }

    /// `Unfold`: `x-kubernetes-int-or-string` becomes `anyOf: [{type: integer}, {type: string}]` unless
    /// that is already there (directly or as the first `allOf`); other `anyOf`s move under `allOf`.
    static func unfold(_ node: inout JSONValue) {
        if node["x-kubernetes-int-or-string"] == true {
            func isIntOrString(_ anyOf: JSONValue?) -> Bool {
                guard let a = anyOf?.arrayValue, a.count == 2 else { return false }
                return a[0]["type"] == "integer" && a[1]["type"] == "string"
            }
            let intOrString: JSONValue = [["type": "integer"], ["type": "string"]]
            let allOf = node["allOf"]?.arrayValue ?? []
            if !isIntOrString(node["anyOf"]) && !isIntOrString(allOf.first?["anyOf"]) {
                if node["anyOf"] == nil {
                    node["anyOf"] = intOrString
                } else {
                    node["allOf"] = .array([["anyOf": intOrString]] + allOf)
                }
            }
        }
        forEachChild(&node) { unfold(&$0) }
    }

    /// `ToStructuralOpenAPIV2`: drops the junctors; a nullable node loses its type and children, a node
    /// preserving unknown fields its children, an array without items its type; nullable properties are
    /// not required. Parents first, as kube's visitor.
    static func toV2(_ node: inout JSONValue) {
        guard case .object(var o) = node else { return }
        for key in ["allOf", "anyOf", "oneOf", "not"] { o[key] = nil }
        if o["nullable"] == true {
            for key in ["type", "nullable", "items", "properties"] { o[key] = nil }
        }
        if o["x-kubernetes-preserve-unknown-fields"] == true {
            o["items"] = nil
            o["properties"] = nil
        }
        if o["items"] == nil && o["type"] == "array" { o["type"] = nil }
        var required = o["required"]?.arrayValue ?? []
        for (name, property) in o["properties"]?.objectValue ?? [:] where property["nullable"] == true {
            required.removeAll { $0 == .string(name) }
        }
        if o["additionalProperties"]?["nullable"] == true { required = [] }
        o["required"] = required.isEmpty ? nil : .array(required)
        node = .object(o)
        forEachChild(&node) { toV2(&$0) }
    }

    /// `PruneDefaults`: published v2 schemas carry no defaults, like the built-in ones.
    static func pruneDefaults(_ node: inout JSONValue) {
        node["default"] = nil
        forEachChild(&node) { pruneDefaults(&$0) }
    }

    /// `addEmbeddedProperties`: an embedded resource gets `apiVersion`, `kind` (both required) and
    /// `metadata`, except in v2 where it preserves unknown fields. Children first.
    static func addEmbeddedProperties(_ node: inout JSONValue, v2: Bool) {
        forEachChild(&node) { addEmbeddedProperties(&$0, v2: v2) }
        guard node["x-kubernetes-embedded-resource"] == true,
              !(v2 && node["x-kubernetes-preserve-unknown-fields"] == true) else { return }
        node[path: ["properties", "apiVersion"]] = ["type": "string", "description": .string(
            "apiVersion defines the versioned schema of this representation of an object. More info: \(conventions)#resources")]
        node[path: ["properties", "kind"]] = ["type": "string", "description": .string(
            "kind is a string value representing the type of this object. In CamelCase. More info: \(conventions)#types-kinds")]
        node[path: ["properties", "metadata"]] = ref(objectMeta, v2: v2, description: objectMetaDescription)
        var required = node["required"]?.arrayValue ?? []
        for name in ["kind", "apiVersion"] where !required.contains(.string(name)) { required.append(.string(name)) }
        node["required"] = .array(required)
    }
}
