import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Custom resources in `/openapi/v2` and `/openapi/v3`: a definition's schema is published (as
/// apiextensions-apiserver's OpenAPI builder does) with paths for every verb once the definition is
/// established, changes with it, and is gone once it is deleted.
struct CustomResourceOpenAPITests {
    static let schema = json("""
    {"type": "object", "properties": {
      "spec": {"type": "object", "description": "The schedule.", "required": ["cronSpec", "note"], "properties": {
        "cronSpec": {"type": "string", "description": "A cron line.", "example": "* * * * *"},
        "note": {"type": "string", "nullable": true},
        "replicas": {"type": "integer", "default": 1, "minimum": 0},
        "port": {"x-kubernetes-int-or-string": true},
        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                     "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}},
      "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}}
    """)

    static func definition(schema: JSONValue = schema) -> JSONValue {
        [
            "metadata": ["name": "crontabs.stable.example.com"],
            "spec": ["group": "stable.example.com", "scope": "Namespaced",
                     "names": ["plural": "crontabs", "kind": "CronTab"],
                     "versions": [[
                         "name": "v1", "served": true, "storage": true,
                         "schema": ["openAPIV3Schema": schema],
                         "subresources": ["status": [:], "scale": ["specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"]],
                         "selectableFields": [["jsonPath": ".spec.cronSpec"]],
                     ]]],
        ]
    }

    struct Harness {
        let cluster: TestCluster
        let controller: CustomResourceDefinitionController
        let openapi: OpenAPIDocuments
        var registry: Registry { cluster.registry }
        var definitions: ResourceType { cluster.r("customresourcedefinitions", "apiextensions.k8s.io") }

        init() async throws {
            cluster = try await TestCluster()
            controller = CustomResourceDefinitionController(registry: cluster.registry)
            openapi = OpenAPIDocuments(served: cluster.registry.served)
        }

        func swagger() throws -> JSONValue { try JSONValue.parse(openapi.swaggerDocument) }
        func root() throws -> JSONValue { try JSONValue.parse(openapi.rootDocument) }
        func v3(_ path: String) throws -> JSONValue? { try openapi.document(path).map { try JSONValue.parse($0) } }
        func url(_ key: String) throws -> String? { try root()["paths"]?[key]?["serverRelativeURL"]?.stringValue }
    }

    static let kind = "com.example.stable.v1.CronTab"
    static let list = "com.example.stable.v1.CronTabList"
    static let gv = "apis/stable.example.com/v1"

    @Test func anEstablishedDefinitionIsPublishedInOpenAPIV2() async throws {
        let h = try await Harness()
        #expect(try h.swagger()["definitions"]?[Self.kind] == nil)
        _ = try await h.registry.create(h.definitions, namespace: nil, object: Self.definition())
        try await h.controller.sync()

        let doc = try h.swagger()
        let def = try #require(doc["definitions"]?[Self.kind])
        #expect(def["x-kubernetes-group-version-kind"] == [["group": "stable.example.com", "version": "v1", "kind": "CronTab"]])
        #expect(def["x-kubernetes-selectable-fields"] == [["fieldPath": "spec.cronSpec"]])
        #expect(def[path: ["properties", "metadata", "$ref"]] == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        #expect(def[path: ["properties", "apiVersion", "type"]] == "string")
        #expect(def[path: ["properties", "kind", "type"]] == "string")
        let spec = try #require(def[path: ["properties", "spec"]])
        #expect(spec["description"] == "The schedule.")
        #expect(spec[path: ["properties", "cronSpec"]] == ["type": "string", "description": "A cron line."])
        // v2 has no nullable: the node loses its type and stops being required; no defaults; no junctors.
        #expect(spec[path: ["properties", "note"]] == [:])
        #expect(spec["required"] == ["cronSpec"])
        #expect(spec[path: ["properties", "replicas"]] == ["type": "integer", "minimum": 0])
        #expect(spec[path: ["properties", "port"]] == ["x-kubernetes-int-or-string": true])
        let template = try #require(spec[path: ["properties", "template"]])
        #expect(template[path: ["properties", "metadata", "$ref"]] == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        #expect(template["required"] == ["kind", "apiVersion"])
        #expect(template[path: ["properties", "spec"]] == ["type": "object", "x-kubernetes-preserve-unknown-fields": true])

        let listDef = try #require(doc["definitions"]?[Self.list])
        #expect(listDef["x-kubernetes-group-version-kind"] == [["group": "stable.example.com", "version": "v1", "kind": "CronTabList"]])
        #expect(listDef[path: ["properties", "items", "items", "$ref"]] == .string("#/definitions/\(Self.kind)"))
        #expect(listDef[path: ["properties", "metadata", "$ref"]] == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")

        let paths = try #require(doc["paths"]?.objectValue)
        let base = "/apis/stable.example.com/v1"
        let expected: [(String, [String])] = [
            ("\(base)/namespaces/{namespace}/crontabs", ["get", "post", "delete"]),
            ("\(base)/namespaces/{namespace}/crontabs/{name}", ["get", "put", "patch", "delete"]),
            ("\(base)/namespaces/{namespace}/crontabs/{name}/status", ["get", "put", "patch"]),
            ("\(base)/namespaces/{namespace}/crontabs/{name}/scale", ["get", "put", "patch"]),
            ("\(base)/crontabs", ["get"]),
        ]
        for (path, methods) in expected {
            let item = try #require(paths[path], "\(path)")
            #expect(Set(item.objectValue?.keys.map { $0 } ?? []) == Set(methods), "\(path)")
        }
        let read = paths["\(base)/namespaces/{namespace}/crontabs/{name}"]?["get"]
        #expect(read?["x-kubernetes-group-version-kind"] == ["group": "stable.example.com", "version": "v1", "kind": "CronTab"])
        #expect(read?[path: ["responses", "200", "content", "application/json", "schema", "$ref"]] == .string("#/definitions/\(Self.kind)"))
        #expect(paths["\(base)/namespaces/{namespace}/crontabs"]?[path: ["get", "responses", "200", "content", "application/json", "schema", "$ref"]]
                == .string("#/definitions/\(Self.list)"))
        // The built-in part is still there.
        #expect(paths["/api/v1/namespaces/{namespace}/pods/{name}"] != nil)
        #expect(doc["definitions"]?["io.k8s.api.core.v1.Pod"] != nil)
    }

    @Test func anEstablishedDefinitionHasItsOwnOpenAPIV3Document() async throws {
        let h = try await Harness()
        #expect(try h.url(Self.gv) == nil)
        #expect(try h.v3(Self.gv) == nil)
        _ = try await h.registry.create(h.definitions, namespace: nil, object: Self.definition())
        try await h.controller.sync()

        let url = try #require(try h.url(Self.gv))
        #expect(url.hasPrefix("/openapi/v3/\(Self.gv)?hash="))
        #expect(try h.url("api/v1") != nil)
        let bytes = try #require(h.openapi.document(Self.gv))
        #expect(!String(decoding: bytes, as: UTF8.self).contains("#/definitions/"))
        let doc = try JSONValue.parse(bytes)
        let schemas = try #require(doc[path: ["components", "schemas"]])
        let def = try #require(schemas[Self.kind])
        #expect(def["x-kubernetes-group-version-kind"] == [["group": "stable.example.com", "version": "v1", "kind": "CronTab"]])
        #expect(def[path: ["properties", "metadata", "allOf"]] == [["$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]])
        // v3 keeps nullable, defaults and the unfolded int-or-string.
        let spec = try #require(def[path: ["properties", "spec"]])
        #expect(spec[path: ["properties", "note"]] == ["type": "string", "nullable": true])
        #expect(spec["required"] == ["cronSpec", "note"])
        #expect(spec[path: ["properties", "replicas", "default"]] == 1)
        #expect(spec[path: ["properties", "port", "anyOf"]] == [["type": "integer"], ["type": "string"]])
        #expect(spec[path: ["properties", "cronSpec", "example"]] == nil)
        #expect(schemas[Self.list]?[path: ["properties", "items", "items", "$ref"]] == .string("#/components/schemas/\(Self.kind)"))
        // What the kinds and paths refer to is there too.
        for name in ["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
                     "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry", "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
                     "io.k8s.api.autoscaling.v1.Scale"] {
            #expect(schemas[name] != nil, "\(name)")
        }
        let read = doc[path: ["paths", "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}", "get"]]
        #expect(read?[path: ["responses", "200", "content", "application/json", "schema", "$ref"]] == .string("#/components/schemas/\(Self.kind)"))
        // The hash in the root is the document's.
        #expect(try h.root()["paths"]?[Self.gv] == OpenAPIDocuments.rootEntry(Self.gv, bytes))
    }

    @Test func aChangedDefinitionChangesTheHashAndADeletedOneIsGone() async throws {
        let h = try await Harness()
        let builtInRoot = try h.root()
        _ = try await h.registry.create(h.definitions, namespace: nil, object: Self.definition())
        try await h.controller.sync()
        let first = try #require(try h.url(Self.gv))

        var changed = Self.schema
        changed[path: ["properties", "spec", "properties", "suspend"]] = ["type": "boolean", "description": "Stops the schedule."]
        let schema = changed
        _ = try await h.registry.guaranteedUpdate(h.definitions, namespace: nil, name: "crontabs.stable.example.com") { current in
            var next = current
            next[path: ["spec", "versions"]] = Self.definition(schema: schema)[path: ["spec", "versions"]]
            return next
        }
        try await h.controller.sync()
        let second = try #require(try h.url(Self.gv))
        #expect(second != first)
        #expect(try h.v3(Self.gv)?[path: ["components", "schemas", Self.kind, "properties", "spec", "properties", "suspend", "type"]] == "boolean")
        #expect(try h.swagger()[path: ["definitions", Self.kind, "properties", "spec", "properties", "suspend", "type"]] == "boolean")

        _ = try await h.registry.delete(h.definitions, namespace: nil, name: "crontabs.stable.example.com")
        for _ in 0..<3 where !h.registry.served.customResources.isEmpty { try await h.controller.sync() }
        #expect(h.registry.served.customResources.isEmpty)
        #expect(try h.url(Self.gv) == nil)
        #expect(try h.v3(Self.gv) == nil)
        #expect(try h.root() == builtInRoot)
        let doc = try h.swagger()
        #expect(doc["definitions"]?[Self.kind] == nil)
        #expect(doc["definitions"]?[Self.list] == nil)
        #expect(doc["paths"]?["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"] == nil)
    }

    /// (case, property schema, published in v2, published in v3)
    static let schemaCases: [(String, String, String, String)] = [
        ("nullable", #"{"type": "string", "nullable": true}"#, #"{}"#, #"{"type": "string", "nullable": true}"#),
        ("junctors", #"{"type": "string", "oneOf": [{"pattern": "a"}, {"pattern": "b"}], "not": {"pattern": "c"}}"#,
         #"{"type": "string"}"#, #"{"type": "string", "oneOf": [{"pattern": "a"}, {"pattern": "b"}], "not": {"pattern": "c"}}"#),
        ("int-or-string with anyOf", #"{"x-kubernetes-int-or-string": true, "anyOf": [{"minimum": 1}]}"#,
         #"{"x-kubernetes-int-or-string": true}"#,
         #"{"x-kubernetes-int-or-string": true, "anyOf": [{"minimum": 1}], "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}]}"#),
        ("int-or-string already unfolded", #"{"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}"#,
         #"{"x-kubernetes-int-or-string": true}"#,
         #"{"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}"#),
        ("preserving unknown fields", #"{"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"a": {"type": "string"}}}"#,
         #"{"type": "object", "x-kubernetes-preserve-unknown-fields": true}"#,
         #"{"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"a": {"type": "string"}}}"#),
        ("array of nullable items", #"{"type": "array", "items": {"type": "string", "nullable": true}}"#,
         #"{"type": "array", "items": {}}"#, #"{"type": "array", "items": {"type": "string", "nullable": true}}"#),
        ("defaults in nested properties", #"{"type": "object", "default": {}, "properties": {"default": {"type": "integer", "default": 2}}}"#,
         #"{"type": "object", "properties": {"default": {"type": "integer"}}}"#,
         #"{"type": "object", "default": {}, "properties": {"default": {"type": "integer", "default": 2}}}"#),
        ("unknown keywords and false flags", #"{"type": "string", "example": "x", "nullable": false, "x-other": 1, "maxLength": 3, "enum": ["a"]}"#,
         #"{"type": "string", "maxLength": 3, "enum": ["a"]}"#, #"{"type": "string", "maxLength": 3, "enum": ["a"]}"#),
        ("map of nullable values", #"{"type": "object", "required": ["a"], "additionalProperties": {"type": "string", "nullable": true}}"#,
         #"{"type": "object", "additionalProperties": {}}"#,
         #"{"type": "object", "required": ["a"], "additionalProperties": {"type": "string", "nullable": true}}"#),
        ("list and map types and rules", #"{"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"], "items": {"type": "object", "x-kubernetes-map-type": "atomic", "x-kubernetes-validations": [{"rule": "has(self.k)"}], "required": ["k"], "properties": {"k": {"type": "string"}}}}"#,
         #"{"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"], "items": {"type": "object", "x-kubernetes-map-type": "atomic", "x-kubernetes-validations": [{"rule": "has(self.k)"}], "required": ["k"], "properties": {"k": {"type": "string"}}}}"#,
         #"{"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"], "items": {"type": "object", "x-kubernetes-map-type": "atomic", "x-kubernetes-validations": [{"rule": "has(self.k)"}], "required": ["k"], "properties": {"k": {"type": "string"}}}}"#),
    ]

    @Test(arguments: schemaCases)
    func aPropertyIsPublishedAsKubeDoes(name: String, property: String, v2: String, v3: String) throws {
        let crd = try Self.establishedDefinition(schema: ["type": "object", "properties": ["field": json(property)]])
        let resource = try #require(CustomResource(crd))
        let published = CustomResourceOpenAPI(resource, try #require(resource.resourceTypes.first))
        #expect(published.objectSchema(v2: true)[path: ["properties", "field"]] == json(v2), "\(name)")
        #expect(published.objectSchema(v2: false)[path: ["properties", "field"]] == json(v3), "\(name)")
    }

    @Test func aSchemaPreservingUnknownFieldsAtTheRootIsABareObjectInV2() throws {
        let crd = try Self.establishedDefinition(schema: json(#"{"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"spec": {"type": "object"}}}"#))
        let resource = try #require(CustomResource(crd))
        let published = CustomResourceOpenAPI(resource, try #require(resource.resourceTypes.first))
        #expect(published.objectSchema(v2: true) == json("""
        {"type": "object", "x-kubernetes-group-version-kind": [{"group": "stable.example.com", "version": "v1", "kind": "CronTab"}],
         "x-kubernetes-selectable-fields": [{"fieldPath": "spec.cronSpec"}]}
        """))
        #expect(published.objectSchema(v2: false)[path: ["properties", "spec"]] == ["type": "object"])
        #expect(published.objectSchema(v2: false)[path: ["properties", "metadata"]] != nil)
    }

    /// The definition as the controller leaves it once established.
    static func establishedDefinition(schema: JSONValue) throws -> CustomResourceDefinition {
        var crd = definition(schema: schema)
        crd["status"] = ["acceptedNames": ["plural": "crontabs", "kind": "CronTab", "listKind": "CronTabList", "singular": "crontab"],
                         "conditions": [["type": "Established", "status": "True"]]]
        return try crd.decode(CustomResourceDefinition.self)
    }
}
