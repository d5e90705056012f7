import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// The fields of custom resources as kube-apiserver treats them: unknown fields under
/// `fieldValidation`, `selectableFields` in field selectors, and the `scale` subresource's paths.
struct CustomResourceFieldTests {
    static let schema = json("""
    {"type": "object", "properties": {
      "spec": {"type": "object", "properties": {
        "color": {"type": "string"},
        "size": {"type": "integer"},
        "enabled": {"type": "boolean"},
        "ports": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
        "labels": {"type": "object", "additionalProperties": {"type": "object", "properties": {"v": {"type": "string"}}}},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                 "properties": {"known": {"type": "object", "properties": {"a": {"type": "string"}}}}},
        "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                     "properties": {"spec": {"type": "object", "properties": {"x": {"type": "string"}}}}}}},
      "status": {"type": "object", "properties": {"ready": {"type": "integer"}, "selector": {"type": "string"}}}}}
    """)

    /// A definition of `widgets.fields.example.com` (kind Widget) with `schema`, three selectable
    /// fields and a scale subresource on `.spec.size` / `.status.ready` (selector `.status.selector`
    /// unless `labelSelectorPath` is nil).
    static func definition(scope: String = "Namespaced", labelSelectorPath: String? = ".status.selector") -> JSONValue {
        var scale: JSONValue = ["specReplicasPath": ".spec.size", "statusReplicasPath": ".status.ready"]
        if let labelSelectorPath { scale["labelSelectorPath"] = .string(labelSelectorPath) }
        return [
            "metadata": ["name": "widgets.fields.example.com"],
            "spec": ["group": "fields.example.com", "scope": .string(scope),
                     "names": ["plural": "widgets", "kind": "Widget"],
                     "versions": [[
                         "name": "v1", "served": true, "storage": true,
                         "schema": ["openAPIV3Schema": schema],
                         "selectableFields": [["jsonPath": ".spec.color"], ["jsonPath": ".spec.size"], ["jsonPath": ".spec.enabled"]],
                         "subresources": ["status": [:], "scale": scale],
                     ]]],
        ]
    }

    struct Harness {
        let cluster: TestCluster
        var registry: Registry { cluster.registry }
        let widgets: ResourceType

        init(scope: String = "Namespaced", labelSelectorPath: String? = ".status.selector") async throws {
            cluster = try await TestCluster()
            let definitions = cluster.r("customresourcedefinitions", "apiextensions.k8s.io")
            _ = try await cluster.registry.create(definitions, namespace: nil,
                                                  object: CustomResourceFieldTests.definition(scope: scope, labelSelectorPath: labelSelectorPath))
            _ = try await CustomResourceDefinitionController(registry: cluster.registry).sync()
            widgets = try #require(cluster.registry.catalog.resource(group: "fields.example.com", version: "v1", resource: "widgets"))
        }

        var namespace: String? { widgets.namespaced ? "default" : nil }

        /// Creates a widget with `spec`.
        @discardableResult
        func widget(_ name: String, _ spec: JSONValue) async throws -> JSONValue {
            try await registry.create(widgets, namespace: namespace, object: Self.object(name, spec))
        }

        static func object(_ name: String, _ spec: JSONValue) -> JSONValue {
            ["apiVersion": "fields.example.com/v1", "kind": "Widget", "metadata": ["name": .string(name)], "spec": spec]
        }

        /// The request's field validation as `ResourceRequest.fieldValidation` builds it.
        func validation(_ value: String) throws -> FieldValidation {
            var v = try FieldValidation(query: ["fieldValidation": value], options: "CreateOptions")
            v.schema = FieldValidation.Schema(widgets, served: registry.served)
            return v
        }
    }

    // MARK: unknown fields

    /// (case, body, unknown field paths in the order kube-apiserver reports them)
    static let unknownCases: [(String, String, [String])] = [
        ("all known", #"{"apiVersion": "fields.example.com/v1", "kind": "Widget", "metadata": {"name": "w", "labels": {"a": "b"}}, "spec": {"color": "red", "size": 1, "ports": [{"name": "p", "port": 1}]}, "status": {"ready": 1}}"#, []),
        ("nested", #"{"spec": {"unknown": 1}}"#, ["spec.unknown"]),
        ("several, sorted bytewise", #"{"spec": {"b": 1, "a": 2, "B": 3}, "zz": 0}"#, ["spec.B", "spec.a", "spec.b", "zz"]),
        ("list items by index", #"{"spec": {"ports": [{"name": "a"}, {"name": "b", "bogus": true}]}}"#, ["spec.ports[1].bogus"]),
        ("ports before unknown", #"{"spec": {"unknown1": 1, "ports": [{"unknownNested": 1}]}}"#, ["spec.ports[0].unknownNested", "spec.unknown1"]),
        ("map values by dotted key", #"{"spec": {"labels": {"k": {"v": "x", "bogus": 1}}}}"#, ["spec.labels.k.bogus"]),
        ("a value of no schema loses all its fields", #"{"spec": {"color": {"a": 1}}}"#, ["spec.color.a"]),
        ("preserve-unknown-fields keeps the undescribed", #"{"spec": {"free": {"anything": {"deep": 1}, "known": {"a": "x", "b": 1}}}}"#, ["spec.free.known.b"]),
        ("unknown metadata first", #"{"metadata": {"name": "w", "nmae": "x"}, "spec": {"zz": 1}}"#, ["metadata.nmae", "spec.zz"]),
        ("embedded resource: type meta known, metadata checked last", #"{"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "t", "bogus": 1}, "spec": {"x": "y", "extra": 2}}, "zz": 1}}"#,
         ["spec.template.spec.extra", "spec.zz", "spec.template.metadata.bogus"]),
        ("status too", #"{"status": {"ready": 1, "bogus": 2}}"#, ["status.bogus"]),
    ]

    @Test(arguments: unknownCases)
    func unknownFieldsOfACustomResource(name: String, body: String, expected: [String]) {
        let schema = StructuralSchema(Self.schema)
        var object = json(body)
        #expect(CustomResourceUnknownFields.paths(object, schema: schema) == expected, "\(name)")
        let findings = CustomResourceUnknownFields.inspect(&object, schema: schema)
        #expect(findings.unknown == expected, "\(name)")
        #expect(CustomResourceUnknownFields.paths(object, schema: schema).isEmpty, "dropped: \(name)")
    }

    @Test func withoutASchemaOnlyMetadataIsChecked() {
        let object = json(#"{"metadata": {"name": "w", "nmae": "x"}, "spec": {"anything": 1}}"#)
        #expect(CustomResourceUnknownFields.paths(object, schema: nil) == ["metadata.nmae"])
    }

    @Test func theSchemaOfACustomResourceIsItsVersions() async throws {
        let h = try await Harness()
        guard case .custom(let schema?) = FieldValidation.Schema(h.widgets, served: h.registry.served) else {
            Issue.record("not judged by the custom resource's schema")
            return
        }
        #expect(schema.properties["spec"]?.properties.keys.sorted() == ["color", "enabled", "free", "labels", "ports", "size", "template"])
        let pods = h.cluster.r("pods")
        guard case .builtIn = FieldValidation.Schema(pods, served: h.registry.served) else {
            Issue.record("a built-in kind is judged by the OpenAPI schema")
            return
        }
    }

    @Test func strictRefusesUnknownFieldsWithKubesWords() async throws {
        let h = try await Harness()
        var body = Harness.object("w", ["color": "red", "unknown": 1, "another": true])
        let error = await apiError { _ = try h.validation("Strict").check(body: &body, h.widgets) }
        #expect(error?.code == 400)
        #expect(error?.reason == "BadRequest")
        #expect(error?.message == #"Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.another", unknown field "spec.unknown""#)
    }

    @Test func warnAnswersAWarningPerFieldAndPrunes() async throws {
        let h = try await Harness()
        var body = Harness.object("w", ["color": "red", "unknown": 1])
        body[path: ["metadata", "bogus"]] = "x"
        let warnings = try h.validation("Warn").check(body: &body, h.widgets)
        #expect(warnings == [#"unknown field "metadata.bogus""#, #"unknown field "spec.unknown""#])
        #expect(body[path: ["spec", "unknown"]] == nil)
        #expect(body[path: ["metadata", "bogus"]] == nil)
        #expect(body[path: ["spec", "color"]] == "red")
        let created = try await h.registry.create(h.widgets, namespace: "default", object: body)
        #expect(created[path: ["spec", "unknown"]] == nil)
    }

    @Test func ignoreSaysNothing() async throws {
        let h = try await Harness()
        var body = Harness.object("w", ["unknown": 1])
        #expect(try h.validation("Ignore").check(body: &body, h.widgets).isEmpty)
        #expect(body[path: ["spec", "unknown"]] == nil)
    }

    @Test func knownFieldsPassStrict() async throws {
        let h = try await Harness()
        var body = Harness.object("w", ["color": "red", "free": ["anything": 1]])
        #expect(try h.validation("Strict").check(body: &body, h.widgets).isEmpty)
        #expect(body[path: ["spec", "free", "anything"]] == 1)
    }

    @Test func aStrictPatchIsRefusedWithThePatchedObject() async throws {
        let h = try await Harness()
        let current = try await h.widget("w", ["color": "red"])
        let patch: JSONValue = ["spec": ["bogus": 1]]
        var next = MergePatch.apply(patch, to: current)
        let strict = try h.validation("Strict")
        let error = await apiError {
            _ = try Registry.checkPatched(&next, current: current, patch: patch, validation: strict, strategic: false, h.widgets, name: "w")
        }
        #expect(error?.code == 422)
        #expect(error?.message.hasSuffix(#"strict decoding error: unknown field "spec.bogus""#) == true)
        next = MergePatch.apply(patch, to: current)
        let warnings = try Registry.checkPatched(&next, current: current, patch: patch, validation: try h.validation("Warn"),
                                                 strategic: false, h.widgets, name: "w")
        #expect(warnings == [#"unknown field "spec.bogus""#])
        #expect(next[path: ["spec", "bogus"]] == nil)
    }

    // MARK: selectable fields

    @Test func selectableFieldsAreFieldLabels() async throws {
        let h = try await Harness()
        #expect(FieldLabels.supported(h.widgets, served: h.registry.served)
            == ["metadata.name", "metadata.namespace", "spec.color", "spec.size", "spec.enabled"])
        try FieldLabels.check(FieldMatcher(parsing: "spec.color=red,spec.size!=3,metadata.name=w"), for: h.widgets, served: h.registry.served)
        let error = await apiError {
            try FieldLabels.check(FieldMatcher(parsing: "spec.color=red,spec.other=x"), for: h.widgets, served: h.registry.served)
        }
        #expect(error?.code == 400)
        #expect(error?.reason == "BadRequest")
        #expect(error?.message == "field label not supported: spec.other")
        // Without the served resources a custom resource is a stranger.
        #expect(await apiError { try FieldLabels.check(FieldMatcher(parsing: "spec.color=red"), for: h.widgets) }?.code == 400)
    }

    @Test func aClusterScopedResourceHasNoNamespaceLabel() async throws {
        let h = try await Harness(scope: "Cluster")
        #expect(FieldLabels.supported(h.widgets, served: h.registry.served) == ["metadata.name", "spec.color", "spec.size", "spec.enabled"])
        let error = await apiError { try FieldLabels.check(FieldMatcher(parsing: "metadata.namespace=x"), for: h.widgets, served: h.registry.served) }
        #expect(error?.message == "field label not supported: metadata.namespace")
    }

    /// (field selector, widgets selected)
    static let selections: [(String, [String])] = [
        ("spec.color=red", ["a", "c"]),
        ("spec.color!=red", ["b", "d"]),
        ("spec.size=3", ["b"]),
        ("spec.enabled=true", ["a"]),
        ("spec.enabled=false", ["b"]),
        ("spec.color=", ["d"]),
        ("spec.color=red,spec.size=1", ["a"]),
        ("metadata.name=c", ["c"]),
    ]

    @Test(arguments: selections)
    func listsAreFilteredBySelectableFields(selector: String, expected: [String]) async throws {
        let h = try await Harness()
        try await h.widget("a", ["color": "red", "size": 1, "enabled": true])
        try await h.widget("b", ["color": "blue", "size": 3, "enabled": false])
        try await h.widget("c", ["color": "red", "size": 2])
        try await h.widget("d", ["size": 4])
        let options = try ListOptions(query: ["fieldSelector": selector])
        try FieldLabels.check(options.fieldSelector, for: h.widgets, served: h.registry.served)
        let list = try await h.registry.list(h.widgets, namespace: "default", options: options)
        #expect((list["items"]?.arrayValue ?? []).compactMap(\.metadataName) == expected, "\(selector)")
    }

    // MARK: scale

    @Test func scalePathsComeFromTheVersion() async throws {
        let h = try await Harness()
        #expect(ScaleSubresource.paths(h.widgets, served: h.registry.served)
            == ScaleSubresource.Paths(specReplicas: ["spec", "size"], statusReplicas: ["status", "ready"],
                                      selector: .string(["status", "selector"]), customSpecReplicasPath: ".spec.size"))
        let deployments = h.cluster.r("deployments", "apps")
        #expect(ScaleSubresource.paths(deployments, served: h.registry.served) == .builtIn(deployments))
    }

    @Test func aCustomResourceScaleReadsAndWritesItsPaths() async throws {
        let h = try await Harness()
        try await h.widget("w", ["size": 2])
        _ = try await h.registry.guaranteedUpdate(h.widgets, namespace: "default", name: "w", subresource: "status") { cur in
            var next = cur
            next["status"] = ["ready": 1, "selector": "app=w"]
            return next
        }
        let paths = ScaleSubresource.paths(h.widgets, served: h.registry.served)
        let scale = try ScaleSubresource.scale(of: try await h.registry.get(h.widgets, namespace: "default", name: "w"), h.widgets, paths: paths)
        #expect(scale["kind"] == "Scale")
        #expect(scale["apiVersion"] == "autoscaling/v1")
        #expect(scale[path: ["metadata", "name"]] == "w")
        #expect(scale[path: ["spec", "replicas"]] == 2)
        #expect(scale[path: ["status", "replicas"]] == 1)
        #expect(scale[path: ["status", "selector"]] == "app=w")

        let written = try await ScaleSubresource.write(h.registry, h.widgets, "default", "w", replicas: 5, resourceVersion: nil)
        #expect(written[path: ["spec", "size"]] == 5)
        #expect(written[path: ["spec", "replicas"]] == nil)
        #expect(written[path: ["status", "ready"]] == 1)
        #expect(try ScaleSubresource.scale(of: written, h.widgets, paths: paths)[path: ["spec", "replicas"]] == 5)
    }

    @Test func withoutALabelSelectorPathTheScaleHasNoSelector() async throws {
        let h = try await Harness(labelSelectorPath: nil)
        let w = try await h.widget("w", ["size": 2])
        let scale = try ScaleSubresource.scale(of: w, h.widgets, paths: ScaleSubresource.paths(h.widgets, served: h.registry.served))
        #expect(scale[path: ["status", "selector"]] == nil)
        #expect(scale[path: ["status", "replicas"]] == 0)
    }

    @Test func aMissingSpecReplicasIsAnErrorAsInKube() async throws {
        let h = try await Harness()
        let w = try await h.widget("w", ["color": "red"])
        let paths = ScaleSubresource.paths(h.widgets, served: h.registry.served)
        let read = await apiError { _ = try ScaleSubresource.scale(of: w, h.widgets, paths: paths) }
        #expect(read?.code == 500)
        #expect(read?.message == #"Internal error occurred: the spec replicas field ".spec.size" does not exist"#)
        // A patch applies to a Scale whose replicas say "unset"; leaving them so is a 400.
        let forPatch = try ScaleSubresource.scale(of: w, h.widgets, paths: paths, forPatch: true)
        #expect(forPatch[path: ["spec", "replicas"]] == .int(Int64(Int32.min)))
        let write = await apiError {
            _ = try await ScaleSubresource.write(h.registry, h.widgets, "default", "w", replicas: forPatch[path: ["spec", "replicas"]], resourceVersion: nil)
        }
        #expect(write?.code == 400)
        #expect(write?.message == #"the spec replicas field ".spec.size" cannot be empty"#)
        // Setting them creates the field.
        let written = try await ScaleSubresource.write(h.registry, h.widgets, "default", "w", replicas: 3, resourceVersion: nil)
        #expect(written[path: ["spec", "size"]] == 3)
    }

    @Test func aBuiltInScaleIsUnchanged() {
        let deployments = ResourceType("apps", "v1", "Deployment", "deployments")
        let obj = json(#"{"metadata": {"name": "d"}, "spec": {"replicas": 3, "selector": {"matchLabels": {"b": "2", "a": "1"}}}, "status": {"replicas": 2}}"#)
        let scale = try? ScaleSubresource.scale(of: obj, deployments)
        #expect(scale?[path: ["spec", "replicas"]] == 3)
        #expect(scale?[path: ["status", "replicas"]] == 2)
        #expect(scale?[path: ["status", "selector"]] == "a=1,b=2")
        let rcs = ResourceType("", "v1", "ReplicationController", "replicationcontrollers")
        let rc = json(#"{"metadata": {"name": "r"}, "spec": {"selector": {"app": "x"}}}"#)
        let rcScale = try? ScaleSubresource.scale(of: rc, rcs)
        #expect(rcScale?[path: ["spec", "replicas"]] == 1)
        #expect(rcScale?[path: ["status", "selector"]] == "app=x")
    }
}
