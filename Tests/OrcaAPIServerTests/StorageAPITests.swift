import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// StorageClasses (defaults, validation, immutability), the claim's one-time class upgrade
/// from none, and the storage kinds' table columns as kubectl prints them.
@Suite struct StorageAPITests {
    static let invalid: [(String, String, String)] = [
        ("no provisioner", #"{"metadata": {"name": "sc"}}"#, "provisioner: Required value"),
        ("provisioner name", #"{"metadata": {"name": "sc"}, "provisioner": "a/b/c"}"#, "provisioner: Invalid value: \"a/b/c\": a qualified name"),
        ("reclaim policy", #"{"metadata": {"name": "sc"}, "provisioner": "x.io/p", "reclaimPolicy": "Recycle"}"#,
         #"reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain""#),
        ("binding mode", #"{"metadata": {"name": "sc"}, "provisioner": "x.io/p", "volumeBindingMode": "Later"}"#,
         #"volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer""#),
        ("empty parameter key", #"{"metadata": {"name": "sc"}, "provisioner": "x.io/p", "parameters": {"": "v"}}"#,
         "parameters: Invalid value: \"\": field can not be empty."),
    ]

    @Test(arguments: invalid)
    func invalidStorageClasses(name: String, body: String, message: String) async throws {
        let c = try await TestCluster()
        let e = await apiError { _ = try await c.registry.create(c.r("storageclasses", "storage.k8s.io"), namespace: nil, object: json(body)) }
        #expect(e?.code == 422, "\(name)")
        #expect(e?.message.contains(message) == true, "\(name): \(e?.message ?? "no error")")
    }

    @Test func storageClassesAreDefaultedAndImmutable() async throws {
        let c = try await TestCluster()
        let classes = c.r("storageclasses", "storage.k8s.io")
        #expect(classes.namespaced == false && classes.shortNames == ["sc"])
        var sc = try await c.registry.create(classes, namespace: nil, object: json(#"{"metadata": {"name": "fast"}, "provisioner": "example.com/fast"}"#))
        #expect(sc["reclaimPolicy"] == "Delete" && sc["volumeBindingMode"] == "Immediate")
        sc["provisioner"] = "example.com/slow"
        sc["volumeBindingMode"] = "WaitForFirstConsumer"
        let e = await apiError { _ = try await c.registry.update(classes, namespace: nil, name: "fast", object: sc) }
        #expect(e?.message.contains("provisioner: Forbidden: updates to provisioner are forbidden.") == true)
        #expect(e?.message.contains(#"volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable"#) == true)
    }

    @Test func aClaimWithoutAClassMayGetOneOnce() async throws {
        let c = try await TestCluster()
        let claims = c.r("persistentvolumeclaims")
        var claim = try await c.registry.create(claims, namespace: "default", object: json(
            #"{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}"#))
        claim[path: ["spec", "storageClassName"]] = "local-path"
        claim = try await c.registry.update(claims, namespace: "default", name: "data", object: claim)
        #expect(claim[path: ["spec", "storageClassName"]] == "local-path")
        claim[path: ["spec", "storageClassName"]] = "other"
        let e = await apiError { _ = try await c.registry.update(claims, namespace: "default", name: "data", object: claim) }
        #expect(e?.code == 422)
    }

    static func cells(_ r: ResourceType, _ object: JSONValue) -> [JSONValue] {
        let table = TableConvertor(now: { TestCluster.start }).table(r, objects: [object], listMeta: nil, includeObject: "None")
        return table["rows"]?.arrayValue?.first?["cells"]?.arrayValue ?? []
    }

    static func names(_ r: ResourceType) -> [String] {
        let table = TableConvertor(now: { TestCluster.start }).table(r, objects: [], listMeta: nil, includeObject: "None")
        return (table["columnDefinitions"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    @Test func storageKindsPrintAsKubectlShowsThem() async throws {
        let c = try await TestCluster()
        let created = #""creationTimestamp": "2023-11-14T22:13:20Z""#
        let sc = json(#"{"metadata": {"name": "local-path", \#(created), "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}"#)
        #expect(Self.names(c.r("storageclasses", "storage.k8s.io")) == ["Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age"])
        #expect(Self.cells(c.r("storageclasses", "storage.k8s.io"), sc) == ["local-path (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", false, "0s"])
        let pv = json(#"{"metadata": {"name": "pvc-1", \#(created)}, "spec": {"capacity": {"storage": "1024Mi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Delete", "claimRef": {"namespace": "default", "name": "data"}, "storageClassName": "local-path", "volumeMode": "Filesystem"}, "status": {"phase": "Bound"}}"#)
        #expect(Self.names(c.r("persistentvolumes")) == ["Name", "Capacity", "Access Modes", "Reclaim Policy", "Status", "Claim", "StorageClass",
                                                         "VolumeAttributesClass", "Reason", "Age", "VolumeMode"])
        #expect(Self.cells(c.r("persistentvolumes"), pv) == ["pvc-1", "1Gi", "RWO,RWX", "Delete", "Bound", "default/data", "local-path", "<unset>", "", "0s", "Filesystem"])
        let pending = json(#"{"metadata": {"name": "data", \#(created)}, "spec": {"resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "local-path"}, "status": {"phase": "Pending"}}"#)
        #expect(Self.names(c.r("persistentvolumeclaims")) == ["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass",
                                                              "VolumeAttributesClass", "Age", "VolumeMode"])
        #expect(Self.cells(c.r("persistentvolumeclaims"), pending) == ["data", "Pending", "", "", "", "local-path", "<unset>", "0s", "<unset>"])
        var bound = pending
        bound[path: ["spec", "volumeName"]] = "pvc-1"
        bound["status"] = json(#"{"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]}"#)
        #expect(Self.cells(c.r("persistentvolumeclaims"), bound) == ["data", "Bound", "pvc-1", "1Gi", "RWO", "local-path", "<unset>", "0s", "<unset>"])
    }
}
