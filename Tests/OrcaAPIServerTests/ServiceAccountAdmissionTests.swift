import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// ServiceAccount admission on pod creation: the ServiceAccount defaults to `default` and
/// must exist, and the `kube-api-access-*` projected volume is mounted unless opted out.
struct ServiceAccountAdmissionTests {
    static func cluster() async throws -> TestCluster {
        let c = try await TestCluster(admission: AdmissionChain([ServiceAccountAdmission()]))
        for name in ["default", "quiet"] {
            var sa: JSONValue = ["metadata": ["name": .string(name)]]
            if name == "quiet" { sa["automountServiceAccountToken"] = false }
            _ = try await c.registry.create(c.r("serviceaccounts"), namespace: "default", object: sa)
        }
        return c
    }

    static func pod(_ name: String, serviceAccount: String? = nil, automount: Bool? = nil) -> JSONValue {
        var spec: JSONValue = ["containers": [["name": "a", "image": "busybox:1.35"], ["name": "b", "image": "busybox:1.35"]],
                               "initContainers": [["name": "i", "image": "busybox:1.35"]]]
        if let serviceAccount { spec["serviceAccountName"] = .string(serviceAccount) }
        if let automount { spec["automountServiceAccountToken"] = .bool(automount) }
        return ["metadata": ["name": .string(name)], "spec": spec]
    }

    @Test func podsGetTheirTokenVolumeMountedInEveryContainer() async throws {
        let c = try await Self.cluster()
        let pod = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("p"))
        #expect(pod[path: ["spec", "serviceAccountName"]] == "default")
        let volumes = pod[path: ["spec", "volumes"]]?.arrayValue ?? []
        #expect(volumes.count == 1)
        let name = try #require(volumes.first?["name"]?.stringValue)
        #expect(name.hasPrefix("kube-api-access-"))
        let sources = volumes.first?[path: ["projected", "sources"]]?.arrayValue ?? []
        #expect(sources.first?[path: ["serviceAccountToken", "path"]] == "token")
        #expect(sources.first?[path: ["serviceAccountToken", "expirationSeconds"]] == 3607)
        #expect(sources.dropFirst().first?[path: ["configMap", "name"]] == "kube-root-ca.crt")
        #expect(sources.last?[path: ["downwardAPI", "items"]]?.arrayValue?.first?["path"] == "namespace")
        for kind in ["containers", "initContainers"] {
            for container in pod[path: ["spec", kind]]?.arrayValue ?? [] {
                let mount = container["volumeMounts"]?.arrayValue?.first
                #expect(mount?["name"]?.stringValue == name)
                #expect(mount?["mountPath"] == .string(ServiceAccountAdmission.mountPath))
                #expect(mount?["readOnly"] == true)
            }
        }
    }

    @Test func optingOutOnThePodOrTheServiceAccountMountsNothing() async throws {
        let c = try await Self.cluster()
        let pod = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("p", automount: false))
        #expect(pod[path: ["spec", "volumes"]] == nil)
        let quiet = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("q", serviceAccount: "quiet"))
        #expect(quiet[path: ["spec", "volumes"]] == nil)
        #expect(quiet[path: ["spec", "serviceAccountName"]] == "quiet")
        // The pod's own choice wins over the ServiceAccount's.
        let loud = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("r", serviceAccount: "quiet", automount: true))
        #expect(loud[path: ["spec", "volumes"]]?.arrayValue?.count == 1)
    }

    @Test func aMissingServiceAccountIsForbidden() async throws {
        let c = try await Self.cluster()
        let e = await apiError { _ = try await c.registry.create(c.r("pods"), namespace: "default", object: Self.pod("p", serviceAccount: "ghost")) }
        #expect(e?.code == 403)
        #expect(e?.message == "pods \"p\" is forbidden: error looking up service account default/ghost: serviceaccount \"ghost\" not found")
    }
}
