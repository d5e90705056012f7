import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// CustomResourceDefinitions on a registry: validation of definitions, names accepted and
/// established by the controller, custom resources pruned, defaulted and validated by their
/// schema, the status subresource, printer columns, and deletion of the definition.
struct CustomResourceDefinitionTests {
    static let crontabSchema = json("""
    {"type": "object", "properties": {
      "spec": {"type": "object", "required": ["cronSpec"], "properties": {
        "cronSpec": {"type": "string", "pattern": "^[0-9*/ ]+$"},
        "image": {"type": "string"},
        "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1}}},
      "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}}
    """)

    static func definition(plural: String = "crontabs", kind: String = "CronTab", group: String = "stable.example.com",
                           shortNames: [String] = ["ct"], schema: JSONValue = crontabSchema,
                           extraVersion: JSONValue? = nil) -> JSONValue {
        var versions: [JSONValue] = [[
            "name": "v1", "served": true, "storage": true,
            "schema": ["openAPIV3Schema": schema],
            "subresources": ["status": [:]],
            "additionalPrinterColumns": [
                ["name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"],
                ["name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"],
            ],
        ]]
        if let extraVersion { versions.append(extraVersion) }
        return [
            "metadata": ["name": .string("\(plural).\(group)")],
            "spec": ["group": .string(group), "scope": "Namespaced",
                     "names": ["plural": .string(plural), "kind": .string(kind), "shortNames": .array(shortNames.map(JSONValue.string))],
                     "versions": .array(versions)],
        ]
    }

    struct Harness {
        let cluster: TestCluster
        let controller: CustomResourceDefinitionController
        var registry: Registry { cluster.registry }
        var definitions: ResourceType { cluster.r("customresourcedefinitions", "apiextensions.k8s.io") }

        init() async throws {
            cluster = try await TestCluster()
            controller = CustomResourceDefinitionController(registry: cluster.registry)
        }

        /// Creates a definition and lets the controller establish it.
        @discardableResult
        func establish(_ crd: JSONValue) async throws -> CustomResourceDefinition {
            let created = try await registry.create(definitions, namespace: nil, object: crd)
            try await controller.sync()
            return try await registry.get(definitions, namespace: nil, name: created.metadataName!).decode(CustomResourceDefinition.self)
        }

        func crontabs(_ version: String = "v1") throws -> ResourceType {
            try #require(registry.catalog.resource(group: "stable.example.com", version: version, resource: "crontabs"))
        }

        func crontab(_ name: String, _ spec: JSONValue, status: JSONValue? = nil) -> JSONValue {
            var o: JSONValue = ["apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": ["name": .string(name)], "spec": spec]
            if let status { o["status"] = status }
            return o
        }
    }

    /// Changes `spec.versions[0]` of a definition.
    static func firstVersion(_ d: inout JSONValue, _ change: (inout JSONValue) -> Void) {
        var versions = d[path: ["spec", "versions"]]?.arrayValue ?? []
        change(&versions[0])
        d[path: ["spec", "versions"]] = .array(versions)
    }

    // MARK: Definitions

    @Test func anEstablishedDefinitionIsServedWithItsNamesAndConditions() async throws {
        let h = try await Harness()
        #expect(h.registry.catalog.resource(group: "stable.example.com", version: "v1", resource: "crontabs") == nil)
        let crd = try await h.establish(Self.definition())
        #expect(CustomResourceDefinitionConditions.isTrue(crd, "NamesAccepted"))
        #expect(CustomResourceDefinitionConditions.isTrue(crd, "Established"))
        #expect(crd.status?.acceptedNames?.plural == "crontabs")
        #expect(crd.status?.acceptedNames?.listKind == "CronTabList")
        #expect(crd.status?.acceptedNames?.singular == "crontab")
        #expect(crd.status?.storedVersions == ["v1"])
        #expect(crd.spec?.conversion?.strategy == "None")
        let r = try h.crontabs()
        #expect(r.kind == "CronTab" && r.namespaced && r.shortNames == ["ct"] && r.subresources == ["status"])
        #expect(r.singular == "crontab")
        // A second pass changes nothing: the transition times stay.
        let before = crd.status
        try await h.controller.sync()
        let again = try await h.registry.get(h.definitions, namespace: nil, name: "crontabs.stable.example.com")
        #expect(try again.decode(CustomResourceDefinition.self).status == before)
    }

    @Test func aNameAnotherDefinitionHoldsIsNotAccepted() async throws {
        let h = try await Harness()
        try await h.establish(Self.definition())
        // Same group, same kind: the older definition keeps it.
        var kindTaken = Self.definition(plural: "crontabz", shortNames: [])
        kindTaken[path: ["spec", "names", "singular"]] = "crontabz"
        let second = try await h.establish(kindTaken)
        #expect(!CustomResourceDefinitionConditions.isTrue(second, "NamesAccepted"))
        #expect(!CustomResourceDefinitionConditions.isTrue(second, "Established"))
        let condition = second.status?.conditions?.first { $0.type == "NamesAccepted" }
        #expect(condition?.reason == "KindConflict")
        #expect(condition?.message == "\"CronTab\" is already in use")
        #expect(h.registry.catalog.resource(group: "stable.example.com", version: "v1", resource: "crontabz") == nil)
        // So is a short name.
        let singularTaken = try await h.establish(Self.definition(plural: "crontabzz", kind: "Other", shortNames: ["ct"]))
        #expect(singularTaken.status?.conditions?.first { $0.type == "NamesAccepted" }?.reason == "ShortNamesConflict")
        // The same kind in another group is fine.
        let other = try await h.establish(Self.definition(group: "other.example.com"))
        #expect(CustomResourceDefinitionConditions.isTrue(other, "Established"))
    }

    /// A definition broken at `field`.
    static func broken(at field: String) -> JSONValue {
        var d = definition()
        switch field {
        case "metadata.name": d[path: ["metadata", "name"]] = "wrong.stable.example.com"
        case "spec.group":
            d[path: ["spec", "group"]] = "nodots"
            d[path: ["metadata", "name"]] = "crontabs.nodots"
        case "spec.scope": d[path: ["spec", "scope"]] = "Galaxy"
        case "spec.names.kind": d[path: ["spec", "names", "kind"]] = "Cron_Tab"
        case "spec.versions": firstVersion(&d) { $0["storage"] = false }
        case "spec.versions[0].schema.openAPIV3Schema": firstVersion(&d) { $0["schema"] = [:] }
        case "spec.versions[0].schema.openAPIV3Schema.properties[spec].type":
            firstVersion(&d) { $0[path: ["schema", "openAPIV3Schema", "properties", "spec", "type"]] = nil }
        case "spec.versions[0].additionalPrinterColumns[0].type":
            firstVersion(&d) { $0["additionalPrinterColumns"] = [["name": "C", "type": "color", "jsonPath": ".spec.x"]] }
        default: break
        }
        return d
    }

    @Test(arguments: ["metadata.name", "spec.group", "spec.scope", "spec.names.kind", "spec.versions",
                      "spec.versions[0].schema.openAPIV3Schema", "spec.versions[0].schema.openAPIV3Schema.properties[spec].type",
                      "spec.versions[0].additionalPrinterColumns[0].type"])
    func invalidDefinitionsAre422WithTheField(field: String) async throws {
        let h = try await Harness()
        let crd = Self.broken(at: field)
        let e = await apiError { _ = try await h.registry.create(h.definitions, namespace: nil, object: crd) }
        #expect(e?.code == 422)
        let fields = (e?.status[path: ["details", "causes"]]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue }
        #expect(fields.contains(field), "\(fields)")
        #expect(try await h.registry.list(h.definitions, namespace: nil, options: ListOptions())["items"]?.arrayValue?.isEmpty == true)
    }

    @Test func scopeAndGroupAreImmutable() async throws {
        let h = try await Harness()
        try await h.establish(Self.definition())
        let e = await apiError {
            _ = try await h.registry.guaranteedUpdate(h.definitions, namespace: nil, name: "crontabs.stable.example.com") { cur in
                var next = cur
                next[path: ["spec", "scope"]] = "Cluster"
                return next
            }
        }
        #expect(e?.code == 422)
        #expect(e?.message.contains("spec.scope: Invalid value: \"Cluster\": field is immutable") == true)
    }

    // MARK: Custom resources

    @Test func customResourcesArePrunedDefaultedAndGetAGeneration() async throws {
        let h = try await Harness()
        try await h.establish(Self.definition())
        let r = try h.crontabs()
        let created = try await h.registry.create(r, namespace: "default", object: h.crontab(
            "a", ["cronSpec": "* * * * */5", "unknown": "x"], status: ["replicas": 9]))
        #expect(created[path: ["spec", "unknown"]] == nil)
        #expect(created[path: ["spec", "replicas"]] == 1)
        // With the status subresource, a create sets no status.
        #expect(created["status"] == nil)
        #expect(created[path: ["metadata", "generation"]] == 1)
        // A spec change counts; a status write through /status does not, and cannot change the spec.
        let updated = try await h.registry.guaranteedUpdate(r, namespace: "default", name: "a") { cur in
            var next = cur
            next[path: ["spec", "image"]] = "img"
            return next
        }
        #expect(updated[path: ["metadata", "generation"]] == 2)
        let status = try await h.registry.guaranteedUpdate(r, namespace: "default", name: "a", subresource: "status") { cur in
            var next = cur
            next["status"] = ["replicas": 3]
            next[path: ["spec", "image"]] = "ignored"
            return next
        }
        #expect(status[path: ["status", "replicas"]] == 3)
        #expect(status[path: ["spec", "image"]] == "img")
        #expect(status[path: ["metadata", "generation"]] == 2)
    }

    @Test func aCustomResourceThatBreaksItsSchemaIs422WithTheFields() async throws {
        let h = try await Harness()
        try await h.establish(Self.definition())
        let r = try h.crontabs()
        let e = await apiError {
            _ = try await h.registry.create(r, namespace: "default", object: h.crontab("bad", ["cronSpec": "nope!", "replicas": 11]))
        }
        #expect(e?.code == 422)
        #expect(e?.reason == "Invalid")
        let fields = Set((e?.status[path: ["details", "causes"]]?.arrayValue ?? []).compactMap { $0["field"]?.stringValue })
        #expect(fields == ["spec.cronSpec", "spec.replicas"])
        #expect(e?.message.hasPrefix("CronTab \"bad\" is invalid: ") == true)
        let missing = await apiError { _ = try await h.registry.create(r, namespace: "default", object: h.crontab("empty", [:])) }
        #expect(missing?.message.contains("spec.cronSpec: Required value") == true)
    }

    @Test func printerColumnsMakeTheTable() async throws {
        let h = try await Harness()
        try await h.establish(Self.definition())
        let r = try h.crontabs()
        let obj = try await h.registry.create(r, namespace: "default", object: h.crontab("a", ["cronSpec": "* * * * *", "replicas": 3]))
        let table = TableConvertor(now: { TestCluster.start }, served: h.registry.served)
            .table(r, objects: [obj], listMeta: nil, includeObject: "None")
        let names = (table["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(names == ["Name", "Spec", "Replicas"])
        #expect(table["rows"]?.arrayValue?.first?["cells"] == ["a", "* * * * *", 3])
    }

    @Test func definitionsPrintTheirCreationTime() async throws {
        let h = try await Harness()
        try await h.establish(Self.definition())
        let crd = try await h.registry.get(h.definitions, namespace: nil, name: "crontabs.stable.example.com")
        let table = TableConvertor(now: { TestCluster.start }).table(h.definitions, objects: [crd], listMeta: nil, includeObject: "None")
        #expect((table["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue } == ["Name", "Created At"])
        #expect(table["rows"]?.arrayValue?.first?["cells"] == ["crontabs.stable.example.com", .string(KubernetesTime.string(TestCluster.start))])
    }

    // MARK: Deletion

    @Test func deletingADefinitionDeletesItsObjectsFirst() async throws {
        let h = try await Harness()
        try await h.establish(Self.definition())
        let r = try h.crontabs()
        _ = try await h.registry.create(r, namespace: "default", object: h.crontab("plain", ["cronSpec": "* * * * *"]))
        var held = h.crontab("held", ["cronSpec": "* * * * *"])
        held[path: ["metadata", "finalizers"]] = ["example.com/keep"]
        _ = try await h.registry.create(r, namespace: "default", object: held)

        let (marked, gone) = try await h.registry.delete(h.definitions, namespace: nil, name: "crontabs.stable.example.com")
        #expect(!gone)
        #expect(marked.finalizers == [CustomResourceDefinitionConditions.cleanupFinalizer])
        #expect(try marked.decode(CustomResourceDefinition.self).status?.conditions?.contains { $0.type == "Terminating" && $0.status == "True" } == true)

        // The objects go first; one with its own finalizer holds the definition.
        #expect(try await h.controller.sync())
        let refused = await apiError { _ = try await h.registry.create(r, namespace: "default", object: h.crontab("new", ["cronSpec": "* * * * *"])) }
        #expect(refused?.code == 405)
        let left = try await h.registry.list(r, namespace: nil, options: ListOptions())["items"]?.arrayValue ?? []
        #expect(left.compactMap(\.metadataName) == ["held"])
        #expect(left.first?.deletionTimestamp != nil)

        _ = try await h.registry.guaranteedUpdate(r, namespace: "default", name: "held") { cur in
            var next = cur
            next[path: ["metadata", "finalizers"]] = []
            return next
        }
        #expect(try await h.controller.sync() == false)
        #expect(await apiError { _ = try await h.registry.get(h.definitions, namespace: nil, name: "crontabs.stable.example.com") }?.code == 404)
        try await h.controller.sync()
        #expect(h.registry.catalog.resource(group: "stable.example.com", version: "v1", resource: "crontabs") == nil)

        // A new definition of the same name starts empty.
        try await h.establish(Self.definition())
        let fresh = try await h.registry.list(try h.crontabs(), namespace: nil, options: ListOptions())
        #expect(fresh["items"]?.arrayValue?.isEmpty == true)
    }
}
