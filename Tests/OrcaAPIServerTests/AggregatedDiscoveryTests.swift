import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import OrcaAPI
import OrcaStore
import Testing
@testable import OrcaAPIServer

/// Aggregated discovery (`apidiscovery.k8s.io/v2`) through the real `APIHandler`: negotiation,
/// headers, the documents, and agreement with the legacy resource lists.
struct AggregatedDiscoveryTests {
    static let v2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    static let v2beta1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    /// What kubectl 1.32 sends for `/api` and `/apis`.
    static let kubectl = "\(v2),\(v2beta1),application/json"

    @Test(arguments: [
        (kubectl, "v2"),
        (v2, "v2"),
        (v2beta1, "v2beta1"),
        ("\(v2beta1),\(v2)", "v2beta1"),
        // Protobuf is not served: the next range decides.
        ("application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,\(v2),application/json", "v2"),
        // An unknown version is skipped.
        ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,\(v2beta1)", "v2beta1"),
        // Weights win over order.
        ("application/json;q=0.5,\(v2)", "v2"),
        ("\(v2);q=0.1,application/json", nil),
        ("application/json, application/json;g=apidiscovery.k8s.io; v=v2; as=APIGroupDiscoveryList", nil),
        ("application/json", nil),
        ("*/*", nil),
        ("", nil),
    ] as [(String, String?)])
    func negotiation(accept: String, expected: String?) {
        #expect(Discovery.negotiateAggregated(accept: accept)?.rawValue == expected)
    }

    @Test func kubectlGetsV2ForApis() async throws {
        let server = DiscoveryServer()
        let r = try await server.get("/apis", accept: Self.kubectl)
        #expect(r.status == 200)
        #expect(r.headers[.contentType] == Self.v2)
        #expect(r.headers[.vary] == "Accept")
        #expect(r.headers[.eTag]?.hasPrefix("\"") == true)
        let doc = try r.json()
        #expect(doc["kind"] == "APIGroupDiscoveryList")
        #expect(doc["apiVersion"] == "apidiscovery.k8s.io/v2")
        #expect(doc["metadata"] == [:])
        let names = doc["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
        // Every group but the core one, in the legacy `/apis` order.
        #expect(names == server.discovery.catalog.groups.filter { !$0.isEmpty })
        #expect(names.contains("apps"))
    }

    @Test func v2beta1IsTheSameShape() async throws {
        let server = DiscoveryServer()
        let beta = try await server.get("/apis", accept: "\(Self.v2beta1),application/json")
        #expect(beta.headers[.contentType] == Self.v2beta1)
        var doc = try beta.json()
        #expect(doc["apiVersion"] == "apidiscovery.k8s.io/v2beta1")
        doc["apiVersion"] = "apidiscovery.k8s.io/v2"
        #expect(doc == (try await server.get("/apis", accept: Self.v2).json()))
    }

    @Test(arguments: ["/api", "/apis", "/api/", "/apis/"], [nil, "application/json", "application/json, */*"] as [String?])
    func plainJSONKeepsTheLegacyDocuments(path: String, accept: String?) async throws {
        let r = try await DiscoveryServer().get(path, accept: accept)
        #expect(r.status == 200)
        #expect(r.headers[.contentType] == "application/json")
        #expect(r.headers[.eTag] == nil)
        #expect(try r.json()["kind"] == (path.hasPrefix("/apis") ? "APIGroupList" : "APIVersions"))
    }

    @Test func coreGroup() async throws {
        let r = try await DiscoveryServer().get("/api", accept: Self.kubectl)
        #expect(r.headers[.contentType] == Self.v2)
        let items = try #require(try r.json()["items"]?.arrayValue)
        #expect(items.count == 1)
        let core = try #require(items.first)
        #expect(core["metadata"] == [:])
        let versions = try #require(core["versions"]?.arrayValue)
        #expect(versions.map { $0["version"] } == ["v1"])
        #expect(versions.first?["freshness"] == "Current")
        let resources = try #require(versions.first?["resources"]?.arrayValue)
        let names = resources.compactMap { $0["resource"]?.stringValue }
        #expect(names == names.sorted())
        #expect(names.contains("bindings") && names.contains("pods") && names.contains("nodes"))

        let pods = try #require(resources.first { $0["resource"] == "pods" })
        #expect(pods["responseKind"] == json(#"{"group":"","version":"v1","kind":"Pod"}"#))
        #expect(pods["scope"] == "Namespaced")
        #expect(pods["singularResource"] == "pod")
        #expect(pods["shortNames"] == ["po"])
        #expect(pods["categories"] == ["all"])
        let subs = try #require(pods["subresources"]?.arrayValue)
        let subNames = subs.compactMap { $0["subresource"]?.stringValue }
        #expect(subNames == subNames.sorted())
        #expect(subs.first { $0["subresource"] == "eviction" } ==
                json(#"{"subresource":"eviction","responseKind":{"group":"policy","version":"v1","kind":"Eviction"},"verbs":["create"]}"#))
        #expect(subs.first { $0["subresource"] == "binding" } ==
                json(#"{"subresource":"binding","responseKind":{"group":"","version":"v1","kind":"Binding"},"verbs":["create"]}"#))

        let nodes = try #require(resources.first { $0["resource"] == "nodes" })
        #expect(nodes["scope"] == "Cluster")
        #expect(resources.first { $0["resource"] == "secrets" }?["shortNames"] == nil)
    }

    @Test func appsDeployments() async throws {
        let doc = try await DiscoveryServer().get("/apis", accept: Self.kubectl).json()
        let apps = try #require(doc["items"]?.arrayValue?.first { $0["metadata"]?["name"] == "apps" })
        #expect(apps["metadata"] == ["name": "apps"])
        let v1 = try #require(apps["versions"]?.arrayValue?.first)
        #expect(v1["version"] == "v1")
        #expect(v1["freshness"] == "Current")
        let deployments = try #require(v1["resources"]?.arrayValue?.first { $0["resource"] == "deployments" })
        #expect(deployments == json("""
            {"resource":"deployments","responseKind":{"group":"apps","version":"v1","kind":"Deployment"},
             "scope":"Namespaced","singularResource":"deployment",
             "verbs":["create","delete","deletecollection","get","list","patch","update","watch"],
             "shortNames":["deploy"],"categories":["all"],
             "subresources":[
               {"subresource":"scale","responseKind":{"group":"autoscaling","version":"v1","kind":"Scale"},"verbs":["get","patch","update"]},
               {"subresource":"status","responseKind":{"group":"apps","version":"v1","kind":"Deployment"},"verbs":["get","patch","update"]}]}
            """))
        let clusterRoles = try await DiscoveryServer().get("/apis", accept: Self.v2).json()["items"]?.arrayValue?
            .first { $0["metadata"]?["name"] == "rbac.authorization.k8s.io" }?["versions"]?.arrayValue?.first?["resources"]?.arrayValue?
            .first { $0["resource"] == "clusterroles" }
        #expect(clusterRoles?["scope"] == "Cluster")
        #expect(clusterRoles?["subresources"] == nil)
    }

    @Test(arguments: ["/api", "/apis"])
    func notModifiedOnAMatchingETag(path: String) async throws {
        let server = DiscoveryServer()
        let first = try await server.get(path, accept: Self.kubectl)
        let etag = try #require(first.headers[.eTag])
        #expect(try await server.get(path, accept: Self.kubectl).headers[.eTag] == etag)

        let cached = try await server.get(path, accept: Self.kubectl, headers: [.ifNoneMatch: etag])
        #expect(cached.status == 304)
        #expect(cached.body.isEmpty)
        #expect(cached.headers[.eTag] == etag)
        #expect(cached.headers[.vary] == "Accept")

        let stale = try await server.get(path, accept: Self.kubectl, headers: [.ifNoneMatch: "\"0123\""])
        #expect(stale.status == 200)
        #expect(stale.body == first.body)
        // `/api` and `/apis` are different documents.
        let other = try await server.get(path == "/api" ? "/apis" : "/api", accept: Self.kubectl, headers: [.ifNoneMatch: etag])
        #expect(other.status == 200)
    }

    /// Every entry of every legacy resource list (`/api/v1`, `/apis/<g>/<v>`) appears in the
    /// aggregated documents with the same scope, kind and verbs, and nothing else does.
    @Test func agreesWithTheLegacyResourceLists() async throws {
        let server = DiscoveryServer()
        let catalog = server.discovery.catalog
        var groups: [String: JSONValue] = [:]
        for path in ["/api", "/apis"] {
            for item in try await server.get(path, accept: Self.v2).json()["items"]?.arrayValue ?? [] {
                groups[item["metadata"]?["name"]?.stringValue ?? ""] = item
            }
        }
        #expect(Set(groups.keys) == Set(catalog.groups))
        var checked = 0
        for group in catalog.groups {
            let versions = Set(catalog.resources.filter { $0.group == group }.map(\.version))
            let aggregatedVersions = groups[group]?["versions"]?.arrayValue ?? []
            #expect(Set(aggregatedVersions.compactMap { $0["version"]?.stringValue }) == versions)
            for version in versions {
                let legacy = try await server.get(group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)", accept: nil).json()
                let entries = try #require(legacy["resources"]?.arrayValue)
                let resources = aggregatedVersions.first { $0["version"] == .string(version) }?["resources"]?.arrayValue ?? []
                var aggregatedCount = 0
                for r in resources { aggregatedCount += 1 + (r["subresources"]?.arrayValue?.count ?? 0) }
                #expect(aggregatedCount == entries.count, "\(group)/\(version): aggregated has \(aggregatedCount) entries, legacy \(entries.count)")

                for entry in entries {
                    let name = try #require(entry["name"]?.stringValue)
                    let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
                    let resource = try #require(resources.first { $0["resource"] == .string(parts[0]) }, "\(group)/\(version) \(name)")
                    let expectedKind: JSONValue = ["group": entry["group"] ?? .string(group), "version": entry["version"] ?? .string(version),
                                                   "kind": entry["kind"] ?? ""]
                    #expect(resource["scope"] == (entry["namespaced"] == true ? "Namespaced" : "Cluster"), "\(name)")
                    if parts.count == 1 {
                        #expect(resource["verbs"] == entry["verbs"], "\(group)/\(version) \(name)")
                        #expect(resource["responseKind"] == expectedKind, "\(group)/\(version) \(name)")
                        #expect(resource["singularResource"] == entry["singularName"], "\(name)")
                        #expect(resource["shortNames"] == entry["shortNames"], "\(name)")
                        #expect(resource["categories"] == entry["categories"], "\(name)")
                    } else {
                        let sub = try #require(resource["subresources"]?.arrayValue?.first { $0["subresource"] == .string(parts[1]) },
                                               "\(group)/\(version) \(name)")
                        #expect(sub["verbs"] == entry["verbs"], "\(group)/\(version) \(name)")
                        #expect(sub["responseKind"] == expectedKind, "\(group)/\(version) \(name)")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked > catalog.resources.count)
    }

    @Test(arguments: [
        ["v1", "v2", "v1beta1", "v10", "v1alpha1", "v2beta3", "v2beta1", "foo", "v1alpha2", "bar", "v3alpha1"],
    ])
    func versionPriority(versions: [String]) {
        let sorted = versions.sorted { Discovery.compareKubeAwareVersions($0, $1) > 0 }
        #expect(sorted == ["v10", "v2", "v1", "v2beta3", "v2beta1", "v1beta1", "v3alpha1", "v1alpha2", "v1alpha1", "bar", "foo"])
    }
}

/// An `APIHandler` on an empty in-memory store, driven with in-process requests (a bearer
/// token for a cluster admin; the connection is a testing channel with no TLS peer).
struct DiscoveryServer {
    static let token = "aggregated-discovery-test"
    let handler: APIHandler
    var discovery: Discovery { handler.discovery }

    init() {
        let registry = Registry(store: MemoryKVStore(), strategies: Strategies.standard)
        handler = APIHandler(
            registry: registry,
            discovery: Discovery(catalog: registry.catalog, serverAddress: "127.0.0.1:6443"),
            openapi: DiscoveryServer.openapi,
            authenticator: Authenticator(tokens: [DiscoveryServer.token: UserInfo(name: "admin", groups: ["system:masters"])]))
    }

    static let openapi = OpenAPIDocuments(catalog: .standard)

    struct Reply {
        var status: Int
        var headers: HTTPFields
        var body: [UInt8]
        func json() throws -> JSONValue { try JSONValue.parse(body) }
    }

    func get(_ path: String, accept: String?, headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        headers[.authorization] = "Bearer \(DiscoveryServer.token)"
        if let accept { headers[.accept] = accept }
        let head = HTTPRequest(method: .get, scheme: "https", authority: "127.0.0.1:6443", path: path, headerFields: headers)
        let context = APIServerContext(source: ApplicationRequestContextSource(
            channel: NIOAsyncTestingChannel(), logger: Logger(label: "aggregated-discovery-test")))
        let response = try await handler.respond(to: Request(head: head, body: RequestBody(buffer: ByteBuffer())), context: context)
        let sink = BodySink()
        let body = response.body
        try await body.write(BodyCollector(sink: sink))
        return Reply(status: response.status.code, headers: response.headers, body: sink.bytes)
    }
}

/// Collects a response body.
final class BodySink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

struct BodyCollector: ResponseBodyWriter {
    let sink: BodySink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += buffer.readableBytesView }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
