import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Patches and server-side apply of custom resources follow their structural schema: list
/// maps merge by their keys, sets by value, other lists are replaced; field ownership names
/// list items by their keys, so two appliers of different items do not conflict.
struct CustomResourceMergeTests {
    static let schema = StructuralSchema(json("""
    {"type": "object", "properties": {"spec": {"type": "object", "properties": {
      "listeners": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name", "protocol"],
                    "items": {"type": "object", "properties": {"name": {"type": "string"}, "protocol": {"type": "string"},
                                                               "port": {"type": "integer"}}}},
      "hosts": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
      "args": {"type": "array", "items": {"type": "string"}}}}}}
    """))

    @Test func listMapsMergeByEveryKeySetsByValueAndOtherListsAreReplaced() throws {
        let current = json("""
        {"spec": {"listeners": [{"name": "web", "protocol": "TCP", "port": 80}, {"name": "web", "protocol": "UDP", "port": 81}],
                  "hosts": ["a"], "args": ["x"]}}
        """)
        let patch = json("""
        {"spec": {"listeners": [{"name": "web", "protocol": "UDP", "port": 8081}, {"name": "mail", "protocol": "TCP", "port": 25}],
                  "hosts": ["b", "a"], "args": ["y"]}}
        """)
        let merged = try StrategicMergePatch.apply(patch, to: current, schema: Self.schema)
        #expect(merged[path: ["spec", "listeners"]] == json("""
        [{"name": "web", "protocol": "TCP", "port": 80}, {"name": "web", "protocol": "UDP", "port": 8081},
         {"name": "mail", "protocol": "TCP", "port": 25}]
        """))
        #expect(merged[path: ["spec", "hosts"]] == ["a", "b"])
        #expect(merged[path: ["spec", "args"]] == ["y"])
    }

    @Test func ownershipNamesListItemsByTheirKeys() throws {
        let web = json(#"{"spec": {"listeners": [{"name": "web", "protocol": "TCP", "port": 80}], "hosts": ["a"]}}"#)
        let set = ManagedFields.fieldSet(web, schema: Self.schema)
        #expect(set[path: ["f:spec", "f:listeners", #"k:{"name":"web","protocol":"TCP"}"#, "f:port"]] == [:])
        #expect(set[path: ["f:spec", "f:hosts", #"v:"a""#]] == [:])
        var current = try StrategicMergePatch.apply(web, to: [:], schema: Self.schema)
        current[path: ["metadata", "managedFields"]] = [["manager": "web", "operation": "Apply", "fieldsV1": set]]
        // Another item: no conflict. The same item with another port: a conflict kube would print.
        let mail = json(#"{"spec": {"listeners": [{"name": "mail", "protocol": "TCP", "port": 25}], "hosts": ["b"]}}"#)
        #expect(ManagedFields.conflictingPaths(current, applied: mail, manager: "mail").isEmpty)
        let clash = json(#"{"spec": {"listeners": [{"name": "web", "protocol": "TCP", "port": 8080}]}}"#)
        let conflicts = ManagedFields.conflictingPaths(current, applied: clash, manager: "mail")
        #expect(conflicts.map { ManagedFields.display($0.path) } == [#".spec.listeners[name="web",protocol="TCP"].port"#])
    }
}
