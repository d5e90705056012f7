import Foundation
import OrcaAPI
import Testing

/// Checks the generated OpenAPI v2 definitions file in the source tree.
@Suite("Served OpenAPI definitions")
struct ServedSchemaTests {
    static let definitions: [String: JSONValue] = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/OrcaAPI/Resources/openapi-definitions.json")
        let data = (try? Data(contentsOf: url)) ?? Data()
        return (try? JSONValue.parse(Array(data)))?["definitions"]?.objectValue ?? [:]
    }()

    @Test func hasTheServedKinds() {
        for name in [
            "io.k8s.api.core.v1.Pod", "io.k8s.api.apps.v1.Deployment", "io.k8s.api.events.v1.Event",
            "io.k8s.api.autoscaling.v1.Scale", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
            "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList", "io.k8s.apimachinery.pkg.version.Info",
        ] {
            #expect(Self.definitions[name] != nil, "\(name)")
        }
        #expect(Self.definitions["io.k8s.api.networking.v1.Ingress"] != nil)
        #expect(Self.definitions["io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"] == nil)
    }

    @Test func isOpenAPIv2Shaped() {
        let text = JSONValue.object(Self.definitions).jsonString
        #expect(!text.contains("#/$defs/"))
        #expect(!text.contains(#""null""#))
        let pod = Self.definitions["io.k8s.api.core.v1.Pod"]
        #expect(pod?["type"] == "object")
        #expect(pod?[path: ["properties", "metadata", "$ref"]] == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        #expect(pod?[path: ["properties", "apiVersion", "type"]] == "string")
        #expect(pod?[path: ["properties", "apiVersion", "enum"]] == nil)
        let intOrString = Self.definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
        #expect(intOrString?["type"] == "string" && intOrString?["format"] == "int-or-string")
        #expect(Self.definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"]?["type"] == "string")
    }

    @Test func keepsKubernetesExtensions() {
        let ports = Self.definitions["io.k8s.api.core.v1.Container"]?[path: ["properties", "ports"]]
        #expect(ports?["x-kubernetes-patch-merge-key"] == "containerPort")
        #expect(ports?["x-kubernetes-patch-strategy"] == "merge")
        #expect(ports?["x-kubernetes-list-map-keys"] == ["containerPort", "protocol"])
        let gvks = Self.definitions["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]?["x-kubernetes-group-version-kind"]?.arrayValue ?? []
        #expect(gvks.contains(["group": "apps", "kind": "DeleteOptions", "version": "v1"]))
        #expect(gvks.contains(["group": "networking.k8s.io", "kind": "DeleteOptions", "version": "v1"]))
        #expect(!gvks.contains(["group": "autoscaling", "kind": "DeleteOptions", "version": "v2"]))
    }
}
