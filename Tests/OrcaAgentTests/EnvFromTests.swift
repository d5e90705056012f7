import Foundation
import OrcaClient
import OrcaCore
import Testing
@testable import OrcaAgent

/// `envFrom` as the kubelet resolves it: every key of a ConfigMap or Secret, with and without
/// a prefix, later sources and `env` winning; a missing optional source adds nothing, a missing
/// required one is a `CreateContainerConfigError`.
struct EnvFromTests {
    /// Answers `get` from fixed objects (by `resource/namespace/name`); 404 otherwise.
    struct ObjectsClient: StubAPIClient {
        let catalog = ResourceCatalog.standard
        let objects: [String: JSONValue]

        func get(_ r: ResourceType, namespace: String?, name: String) async throws -> JSONValue {
            guard let o = objects["\(r.resource)/\(namespace ?? "")/\(name)"] else { throw APIError.notFound(r, name) }
            return o
        }
    }

    static let client = ObjectsClient(objects: [
        "configmaps/default/settings": ["data": ["color": "blue", "size": "L"]],
        "secrets/default/creds": ["data": ["user": .string(Data("admin".utf8).base64EncodedString())]],
    ])
    static let pod: JSONValue = ["metadata": ["name": "p", "namespace": "default"]]

    func resolve(_ container: JSONValue) async throws -> [String: String] {
        let env = try await EnvironmentResolver(client: Self.client).resolve(pod: Self.pod, container: container)
        return Dictionary(env, uniquingKeysWith: { _, b in b })
    }

    @Test func everyKeyWithAndWithoutAPrefix() async throws {
        let env = try await resolve(["name": "c", "envFrom": [
            ["configMapRef": ["name": "settings"]],
            ["prefix": "p-", "configMapRef": ["name": "settings"]],
            ["prefix": "S_", "secretRef": ["name": "creds"]],
        ], "env": [["name": "size", "value": "XL"]]])
        #expect(env["color"] == "blue" && env["p-color"] == "blue" && env["p-size"] == "L")
        #expect(env["S_user"] == "admin")
        #expect(env["size"] == "XL", "env wins over envFrom")
    }

    @Test func optionalAndRequiredSources() async throws {
        let env = try await resolve(["name": "c", "envFrom": [
            ["configMapRef": ["name": "absent", "optional": true]],
            ["secretRef": ["name": "absent", "optional": true]],
            ["configMapRef": ["name": "settings"]],
        ]])
        #expect(env["color"] == "blue")
        await #expect(throws: EnvironmentResolver.ConfigError.self) {
            _ = try await resolve(["name": "c", "envFrom": [["configMapRef": ["name": "absent"]]]])
        }
    }
}
