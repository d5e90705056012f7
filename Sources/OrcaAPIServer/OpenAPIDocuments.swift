import Crypto
import Foundation
import OrcaAPI
import Synchronization

/// `/openapi/v2` and `/openapi/v3` documents built from the bundled Kubernetes schema and the
/// served custom resources, with one path entry per resource operation so kubectl can find the
/// kinds, explain them, and see that `fieldValidation` is supported.
///
/// The built-in part is built once; the custom resources' part (``CustomResourceOpenAPI``) is
/// rebuilt on the first request after the served custom resources change, as kube-apiserver's
/// CRD OpenAPI controllers merge their specs into the static one.
public final class OpenAPIDocuments: Sendable {
    let served: ServedResources
    /// Definitions in OpenAPI v2 form (`#/definitions/…` references).
    public let definitions: [String: JSONValue]
    /// (apiVersion, kind) → definition name.
    let kindIndex: [String: String]
    /// The built-in resources' v2 paths.
    let builtInPaths: [String: JSONValue]
    let v3Docs: [String: [UInt8]]
    /// `/openapi/v3` entries of the built-in group versions.
    let v3RootPaths: [String: JSONValue]
    let v3Root: [UInt8]
    let v2Doc: [UInt8]
    private let custom = Mutex<CustomDocuments?>(nil)

    /// The documents with custom resources, for one set of served custom resources.
    struct CustomDocuments: Sendable {
        /// Which custom resources (group resource, uid and resourceVersion of their definitions).
        var fingerprint: [String]
        var v2: [UInt8]
        var v3Root: [UInt8]
        /// Group versions with custom resources (built-in resources of the same group version included).
        var v3Docs: [String: [UInt8]]
    }

    /// Documents of the built-in resources only.
    public convenience init(catalog: ResourceCatalog) {
        self.init(served: ServedResources(builtIn: catalog))
    }

    /// Documents of `served`: its built-in catalog now, its custom resources as they change.
    public init(served: ServedResources) {
        self.served = served
        let catalog = served.builtIn
        let defs = OpenAPISchema.definitions
        self.definitions = defs
        let index = OpenAPISchema.kindIndex
        self.kindIndex = index
        var docs: [String: [UInt8]] = [:]
        var rootPaths: [String: JSONValue] = [:]
        var allPaths: [String: JSONValue] = [:]
        var groupVersions: [(String, String)] = []
        for r in catalog.resources where !groupVersions.contains(where: { $0 == (r.group, r.version) }) {
            groupVersions.append((r.group, r.version))
        }
        for (g, v) in groupVersions {
            let key = g.isEmpty ? "api/\(v)" : "apis/\(g)/\(v)"
            let paths = OpenAPIDocuments.paths(catalog.resources(group: g, version: v), index: index)
            allPaths.merge(paths) { a, _ in a }
            let closure = OpenAPIDocuments.closure(OpenAPIDocuments.v3Roots(paths), defs)
            var schemas: [String: JSONValue] = [:]
            for name in closure { schemas[name] = defs[name] }
            let doc: JSONValue = ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"],
                                  "paths": .object(paths), "components": ["schemas": .object(schemas)]]
            let text = doc.jsonString.replacingOccurrences(of: "#/definitions/", with: "#/components/schemas/")
            let bytes = Array(text.utf8)
            docs[key] = bytes
            rootPaths[key] = OpenAPIDocuments.rootEntry(key, bytes)
        }
        self.builtInPaths = allPaths
        self.v3Docs = docs
        self.v3RootPaths = rootPaths
        self.v3Root = JSONValue.object(["paths": .object(rootPaths)]).encoded()
        self.v2Doc = OpenAPIDocuments.swagger(paths: allPaths, definitions: defs)
    }

    /// `/openapi/v3`
    public var rootDocument: [UInt8] { customDocuments()?.v3Root ?? v3Root }
    /// `/openapi/v3/<api/v1 | apis/g/v>`
    public func document(_ path: String) -> [UInt8]? { customDocuments()?.v3Docs[path] ?? v3Docs[path] }
    /// `/openapi/v2` (JSON)
    public var swaggerDocument: [UInt8] { customDocuments()?.v2 ?? v2Doc }

    /// The documents for the custom resources served now (nil when there are none), built on the
    /// first call after they change.
    func customDocuments() -> CustomDocuments? {
        let resources = served.customResources.sorted { $0.groupResource < $1.groupResource }
        guard !resources.isEmpty else {
            custom.withLock { $0 = nil }
            return nil
        }
        let fingerprint = resources.map {
            "\($0.groupResource)|\($0.definition.metadata?.uid ?? "")|\($0.definition.metadata?.resourceVersion ?? "")"
        }
        if let cached = custom.withLock({ $0 }), cached.fingerprint == fingerprint { return cached }
        // Built outside the lock: a concurrent request may build the same documents once more.
        let built = build(resources, fingerprint: fingerprint)
        custom.withLock { $0 = built }
        return built
    }

    /// The documents with `resources` merged into the built-in ones.
    func build(_ resources: [CustomResource], fingerprint: [String]) -> CustomDocuments {
        var v2Definitions = definitions
        var v2Paths = builtInPaths
        var byGroupVersion: [String: [CustomResourceOpenAPI]] = [:]
        for resource in resources {
            for type in resource.resourceTypes {
                let version = CustomResourceOpenAPI(resource, type)
                v2Definitions.merge(version.definitions(v2: true)) { builtIn, _ in builtIn }
                v2Paths.merge(Self.paths([type], index: version.kindIndex)) { builtIn, _ in builtIn }
                byGroupVersion["apis/\(type.group)/\(type.version)", default: []].append(version)
            }
        }
        var docs: [String: [UInt8]] = [:]
        var rootPaths = v3RootPaths
        for (key, versions) in byGroupVersion {
            let group = versions[0].type.group, version = versions[0].type.version
            var paths = Self.paths(served.builtIn.resources(group: group, version: version), index: kindIndex)
            var schemas: [String: JSONValue] = [:]
            for v in versions {
                paths.merge(Self.paths([v.type], index: v.kindIndex)) { builtIn, _ in builtIn }
                schemas.merge(v.definitions(v2: false)) { a, _ in a }
            }
            for name in Self.closure(Self.v3Roots(paths) + [CustomResourceOpenAPI.objectMeta, CustomResourceOpenAPI.listMeta], definitions)
            where schemas[name] == nil {
                schemas[name] = definitions[name].map(Self.v3References)
            }
            let doc: JSONValue = ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"],
                                  "paths": Self.v3References(.object(paths)), "components": ["schemas": .object(schemas)]]
            let bytes = doc.encoded()
            docs[key] = bytes
            rootPaths[key] = Self.rootEntry(key, bytes)
        }
        return CustomDocuments(fingerprint: fingerprint, v2: Self.swagger(paths: v2Paths, definitions: v2Definitions),
                               v3Root: JSONValue.object(["paths": .object(rootPaths)]).encoded(), v3Docs: docs)
    }

    /// The `/openapi/v3` entry of a group version document: its URL with a hash of its content, so
    /// clients refetch exactly when it changes.
    static func rootEntry(_ key: String, _ bytes: [UInt8]) -> JSONValue {
        let hash = SHA256.hash(data: bytes).map { String(format: "%02X", $0) }.joined()
        return ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(hash)")]
    }

    /// The definitions a v3 group version document needs besides those its paths name.
    static func v3Roots(_ paths: [String: JSONValue]) -> [String] {
        paths.values.flatMap { refs(in: $0) } + ["io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
                                                 "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent", "io.k8s.api.autoscaling.v1.Scale"]
    }

    static func swagger(paths: [String: JSONValue], definitions: [String: JSONValue]) -> [UInt8] {
        JSONValue.object(["swagger": "2.0", "info": ["title": "Kubernetes", "version": "v1.32.0"],
                          "paths": .object(paths), "definitions": .object(definitions)]).encoded()
    }

    /// `value` with its `#/definitions/…` references turned into `#/components/schemas/…` ones.
    static func v3References(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(var o):
            for (k, v) in o {
                if k == "$ref", let r = v.stringValue, r.hasPrefix("#/definitions/") {
                    o[k] = .string("#/components/schemas/" + r.dropFirst(14))
                } else {
                    o[k] = v3References(v)
                }
            }
            return .object(o)
        case .array(let a): return .array(a.map(v3References))
        default: return value
        }
    }

    static func refs(in value: JSONValue) -> [String] {
        switch value {
        case .object(let o):
            var out: [String] = []
            if let r = o["$ref"]?.stringValue, r.hasPrefix("#/definitions/") { out.append(String(r.dropFirst(14))) }
            for (_, v) in o { out += refs(in: v) }
            return out
        case .array(let a): return a.flatMap { refs(in: $0) }
        default: return []
        }
    }

    static func closure(_ roots: [String], _ defs: [String: JSONValue]) -> Set<String> {
        var seen = Set<String>()
        var work = roots
        while let n = work.popLast() {
            guard !seen.contains(n), let d = defs[n] else { continue }
            seen.insert(n)
            work += refs(in: d)
        }
        return seen
    }

    static func param(_ name: String, _ desc: String, in location: String = "query") -> JSONValue {
        ["name": .string(name), "in": .string(location), "description": .string(desc), "schema": ["type": "string", "uniqueItems": true]]
    }

    static func paths(_ resources: [ResourceType], index: [String: String]) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for r in resources {
            guard let def = index[r.apiVersion + "|" + r.kind] else { continue }
            let gvk: JSONValue = ["group": .string(r.group), "version": .string(r.version), "kind": .string(r.kind)]
            let schemaRef: JSONValue = ["$ref": .string("#/definitions/\(def)")]
            let listRef: JSONValue = index[r.apiVersion + "|" + r.kind + "List"].map { ["$ref": .string("#/definitions/\($0)")] } ?? schemaRef
            func response(_ schema: JSONValue) -> JSONValue {
                ["200": ["description": "OK", "content": ["application/json": ["schema": schema]]]]
            }
            func op(_ action: String, _ id: String, _ schema: JSONValue, params: [JSONValue] = [], body: JSONValue? = nil) -> JSONValue {
                var o: [String: JSONValue] = ["operationId": .string(id), "x-kubernetes-action": .string(action),
                                              "x-kubernetes-group-version-kind": gvk, "responses": response(schema),
                                              "parameters": .array(params)]
                if let body { o["requestBody"] = ["content": ["*/*": ["schema": body]], "required": true] }
                return .object(o)
            }
            let writeParams = [param("dryRun", "When present, indicates that modifications should not be persisted."),
                               param("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
                               param("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields.")]
            let base = r.group.isEmpty ? "/api/\(r.version)" : "/apis/\(r.group)/\(r.version)"
            let collection = r.namespaced ? "\(base)/namespaces/{namespace}/\(r.resource)" : "\(base)/\(r.resource)"
            let id = r.kind
            out[collection] = [
                "get": op("list", "list\(id)", listRef),
                "post": op("post", "create\(id)", schemaRef, params: writeParams, body: schemaRef),
                "delete": op("deletecollection", "deleteCollection\(id)", ["$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Status"]),
            ]
            out[collection + "/{name}"] = [
                "get": op("get", "read\(id)", schemaRef),
                "put": op("put", "replace\(id)", schemaRef, params: writeParams, body: schemaRef),
                "patch": op("patch", "patch\(id)", schemaRef, params: writeParams + [param("force", "Force is going to \"force\" Apply requests.")], body: schemaRef),
                "delete": op("delete", "delete\(id)", schemaRef),
            ]
            if r.namespaced {
                out["\(base)/\(r.resource)"] = ["get": op("list", "list\(id)ForAllNamespaces", listRef)]
            }
            if r.subresources.contains("status") {
                out[collection + "/{name}/status"] = [
                    "get": op("get", "read\(id)Status", schemaRef),
                    "put": op("put", "replace\(id)Status", schemaRef, params: writeParams, body: schemaRef),
                    "patch": op("patch", "patch\(id)Status", schemaRef, params: writeParams, body: schemaRef),
                ]
            }
            if r.subresources.contains("scale") {
                let scale: JSONValue = ["$ref": "#/definitions/io.k8s.api.autoscaling.v1.Scale"]
                out[collection + "/{name}/scale"] = [
                    "get": op("get", "read\(id)Scale", scale),
                    "put": op("put", "replace\(id)Scale", scale, params: writeParams, body: scale),
                    "patch": op("patch", "patch\(id)Scale", scale, params: writeParams, body: scale),
                ]
            }
        }
        return out
    }
}
