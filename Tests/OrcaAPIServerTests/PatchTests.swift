import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// JSON patch, merge patch and strategic merge patch, on their own and through the registry.
@Suite struct PatchTests {
    static let podDefinition = OpenAPISchema.definitionName(apiVersion: "v1", kind: "Pod")
    static let deploymentDefinition = OpenAPISchema.definitionName(apiVersion: "apps/v1", kind: "Deployment")

    /// (case, original, patch, result)
    static let jsonPatchCases: [(String, String, String, String)] = [
        ("add key", #"{"a": 1}"#, #"[{"op": "add", "path": "/b", "value": 2}]"#, #"{"a": 1, "b": 2}"#),
        ("add to list end", #"{"l": [1, 2]}"#, #"[{"op": "add", "path": "/l/-", "value": 3}]"#, #"{"l": [1, 2, 3]}"#),
        ("insert in list", #"{"l": [1, 3]}"#, #"[{"op": "add", "path": "/l/1", "value": 2}]"#, #"{"l": [1, 2, 3]}"#),
        ("remove", #"{"a": 1, "b": 2}"#, #"[{"op": "remove", "path": "/a"}]"#, #"{"b": 2}"#),
        ("replace", #"{"a": {"b": 1}}"#, #"[{"op": "replace", "path": "/a/b", "value": "x"}]"#, #"{"a": {"b": "x"}}"#),
        ("escaped key", #"{"metadata": {"labels": {"app.kubernetes.io/name": "a"}}}"#, #"[{"op": "replace", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "b"}]"#, #"{"metadata": {"labels": {"app.kubernetes.io/name": "b"}}}"#),
        ("move", #"{"a": 1}"#, #"[{"op": "move", "from": "/a", "path": "/b"}]"#, #"{"b": 1}"#),
        ("copy", #"{"a": [1]}"#, #"[{"op": "copy", "from": "/a", "path": "/b"}]"#, #"{"a": [1], "b": [1]}"#),
        ("test passes", #"{"a": 1}"#, #"[{"op": "test", "path": "/a", "value": 1}, {"op": "replace", "path": "/a", "value": 2}]"#, #"{"a": 2}"#),
    ]

    @Test(arguments: jsonPatchCases)
    func jsonPatch(name: String, original: String, patch: String, result: String) throws {
        let patched = try JSONPatch.apply(json(patch), to: json(original))
        #expect(patched == json(result), "\(name)")
    }

    static let failingJSONPatches = [
        #"[{"op": "test", "path": "/a", "value": 2}]"#,
        #"[{"op": "remove", "path": "/missing"}]"#,
        #"[{"op": "replace", "path": "/l/5", "value": 1}]"#,
        #"[{"op": "jump", "path": "/a"}]"#,
        #"{"op": "add"}"#,
    ]

    @Test(arguments: failingJSONPatches)
    func badJSONPatchesThrow(patch: String) {
        #expect(throws: (any Error).self) { try JSONPatch.apply(json(patch), to: json(#"{"a": 1, "l": [1]}"#)) }
    }

    /// (case, original, patch, result)
    static let mergePatchCases: [(String, String, String, String)] = [
        ("set", #"{"a": 1}"#, #"{"b": 2}"#, #"{"a": 1, "b": 2}"#),
        ("null deletes", #"{"a": 1, "b": 2}"#, #"{"a": null}"#, #"{"b": 2}"#),
        ("nested", #"{"m": {"x": 1, "y": 2}}"#, #"{"m": {"y": null, "z": 3}}"#, #"{"m": {"x": 1, "z": 3}}"#),
        ("lists replace", #"{"l": [1, 2, 3]}"#, #"{"l": [4]}"#, #"{"l": [4]}"#),
        ("object over scalar", #"{"a": 1}"#, #"{"a": {"b": 1}}"#, #"{"a": {"b": 1}}"#),
    ]

    @Test(arguments: mergePatchCases)
    func mergePatch(name: String, original: String, patch: String, result: String) {
        #expect(MergePatch.apply(json(patch), to: json(original)) == json(result), "\(name)")
    }

    static let pod = #"{"spec": {"containers": [{"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]}, {"name": "b", "image": "b:1"}], "tolerations": [{"key": "t"}]}, "metadata": {"finalizers": ["f1", "f2"]}}"#

    /// (case, patch, result) against `pod`
    static let strategicCases: [(String, String, String)] = [
        ("containers merge by name",
         #"{"spec": {"containers": [{"name": "b", "image": "b:2"}]}}"#,
         #"{"spec": {"containers": [{"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]}, {"name": "b", "image": "b:2"}], "tolerations": [{"key": "t"}]}, "metadata": {"finalizers": ["f1", "f2"]}}"#),
        ("new container appended",
         #"{"spec": {"containers": [{"name": "c", "image": "c:1"}]}}"#,
         #"{"spec": {"containers": [{"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]}, {"name": "b", "image": "b:1"}, {"name": "c", "image": "c:1"}], "tolerations": [{"key": "t"}]}, "metadata": {"finalizers": ["f1", "f2"]}}"#),
        ("nested merge key (env by name)",
         #"{"spec": {"containers": [{"name": "a", "env": [{"name": "Y", "value": "2"}]}]}}"#,
         #"{"spec": {"containers": [{"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}, {"name": "b", "image": "b:1"}], "tolerations": [{"key": "t"}]}, "metadata": {"finalizers": ["f1", "f2"]}}"#),
        ("$patch: delete removes one item",
         #"{"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}"#,
         #"{"spec": {"containers": [{"name": "b", "image": "b:1"}], "tolerations": [{"key": "t"}]}, "metadata": {"finalizers": ["f1", "f2"]}}"#),
        ("$patch: replace on a list",
         #"{"spec": {"containers": [{"name": "z", "image": "z:1"}, {"$patch": "replace"}]}}"#,
         #"{"spec": {"containers": [{"name": "z", "image": "z:1"}], "tolerations": [{"key": "t"}]}, "metadata": {"finalizers": ["f1", "f2"]}}"#),
        ("$patch: replace on a map",
         #"{"spec": {"$patch": "replace", "containers": [{"name": "only", "image": "o:1"}]}}"#,
         #"{"spec": {"containers": [{"name": "only", "image": "o:1"}]}, "metadata": {"finalizers": ["f1", "f2"]}}"#),
        ("lists without a merge key are replaced",
         #"{"spec": {"tolerations": [{"key": "u"}]}}"#,
         #"{"spec": {"containers": [{"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]}, {"name": "b", "image": "b:1"}], "tolerations": [{"key": "u"}]}, "metadata": {"finalizers": ["f1", "f2"]}}"#),
        ("$deleteFromPrimitiveList",
         #"{"metadata": {"$deleteFromPrimitiveList/finalizers": ["f1"]}}"#,
         #"{"spec": {"containers": [{"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]}, {"name": "b", "image": "b:1"}], "tolerations": [{"key": "t"}]}, "metadata": {"finalizers": ["f2"]}}"#),
        ("null deletes a key",
         #"{"spec": {"tolerations": null}}"#,
         #"{"spec": {"containers": [{"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]}, {"name": "b", "image": "b:1"}]}, "metadata": {"finalizers": ["f1", "f2"]}}"#),
    ]

    @Test(arguments: strategicCases)
    func strategicMergePatch(name: String, patch: String, result: String) throws {
        let patched = try StrategicMergePatch.apply(json(patch), to: json(Self.pod), definition: Self.podDefinition)
        #expect(patched == json(result), "\(name)")
    }

    @Test func retainKeysDropsTheOtherKeys() throws {
        let deployment = json(#"{"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}"#)
        let patch = json(#"{"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}"#)
        let patched = try StrategicMergePatch.apply(patch, to: deployment, definition: Self.deploymentDefinition)
        #expect(patched == json(#"{"spec": {"strategy": {"type": "Recreate"}}}"#))
    }

    @Test func unknownDirectiveIsAnError() {
        #expect(throws: (any Error).self) {
            try StrategicMergePatch.apply(json(#"{"spec": {"$patch": "explode"}}"#), to: json(Self.pod), definition: Self.podDefinition)
        }
    }

    @Test func patchThroughTheRegistryKeepsDefaultsAndBumpsGeneration() async throws {
        let c = try await TestCluster()
        let deployments = c.r("deployments", "apps")
        _ = try await c.registry.create(deployments, namespace: "default", object: WorkloadFixtures.deployment())
        let patch = json(#"{"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:latest"}]}}}}"#)
        let definition = Self.deploymentDefinition
        let patched = try await c.registry.guaranteedUpdate(deployments, namespace: "default", name: "web") { cur in
            try StrategicMergePatch.apply(patch, to: cur, definition: definition)
        }
        #expect(patched[path: ["metadata", "generation"]] == 2)
        let container = patched[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first
        #expect(container?["image"] == "busybox:latest")
        #expect(container?["terminationMessagePath"] == "/dev/termination-log", "the merged container keeps its defaults")
        #expect(container?["imagePullPolicy"] == "IfNotPresent", "kept from the stored object: Kubernetes does not re-default set fields")
    }
}
