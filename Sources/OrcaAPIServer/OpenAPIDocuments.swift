import Crypto
import Foundation
import OrcaAPI

/// `/openapi/v2` and `/openapi/v3` documents built from the bundled Kubernetes schema,
/// with one path entry per resource operation so kubectl can find the kinds, explain
/// them, and see that `fieldValidation` is supported.
public final class OpenAPIDocuments: Sendable {
    let catalog: ResourceCatalog
    /// Definitions in OpenAPI v2 form (`#/definitions/…` references).
    public let definitions: [String: JSONValue]
    /// (apiVersion, kind) → definition name.
    let kindIndex: [String: String]
    let v3Docs: [String: [UInt8]]
    let v3Root: [UInt8]
    let v2Doc: [UInt8]

    public init(catalog: ResourceCatalog) {
        self.catalog = catalog
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
            var roots = paths.values.flatMap { OpenAPIDocuments.refs(in: $0) }
            roots += ["io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
                      "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent", "io.k8s.api.autoscaling.v1.Scale"]
            let closure = OpenAPIDocuments.closure(roots, defs)
            var schemas: [String: JSONValue] = [:]
            for name in closure { schemas[name] = defs[name] }
            let doc: JSONValue = ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"],
                                  "paths": .object(paths), "components": ["schemas": .object(schemas)]]
            let text = doc.jsonString.replacingOccurrences(of: "#/definitions/", with: "#/components/schemas/")
            let bytes = Array(text.utf8)
            docs[key] = bytes
            let hash = SHA256.hash(data: bytes).map { String(format: "%02X", $0) }.joined()
            rootPaths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(hash)")]
        }
        self.v3Docs = docs
        self.v3Root = JSONValue.object(["paths": .object(rootPaths)]).encoded()
        self.v2Doc = JSONValue.object(["swagger": "2.0", "info": ["title": "Kubernetes", "version": "v1.32.0"],
                                       "paths": .object(allPaths), "definitions": .object(defs)]).encoded()
    }

    /// `/openapi/v3`
    public var rootDocument: [UInt8] { v3Root }
    /// `/openapi/v3/<api/v1 | apis/g/v>`
    public func document(_ path: String) -> [UInt8]? { v3Docs[path] }
    /// `/openapi/v2` (JSON)
    public var swaggerDocument: [UInt8] { v2Doc }

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
            func op(_ action: String, _ id: String, _ schema: JSONValue, params: [JSONValue] = [], body: Bool = false) -> JSONValue {
                var o: [String: JSONValue] = ["operationId": .string(id), "x-kubernetes-action": .string(action),
                                              "x-kubernetes-group-version-kind": gvk, "responses": response(schema),
                                              "parameters": .array(params)]
                if body { o["requestBody"] = ["content": ["*/*": ["schema": schemaRef]], "required": true] }
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
                "post": op("post", "create\(id)", schemaRef, params: writeParams, body: true),
                "delete": op("deletecollection", "deleteCollection\(id)", ["$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Status"]),
            ]
            out[collection + "/{name}"] = [
                "get": op("get", "read\(id)", schemaRef),
                "put": op("put", "replace\(id)", schemaRef, params: writeParams, body: true),
                "patch": op("patch", "patch\(id)", schemaRef, params: writeParams + [param("force", "Force is going to \"force\" Apply requests.")], body: true),
                "delete": op("delete", "delete\(id)", schemaRef),
            ]
            if r.subresources.contains("status") {
                out[collection + "/{name}/status"] = [
                    "get": op("get", "read\(id)Status", schemaRef),
                    "put": op("put", "replace\(id)Status", schemaRef, params: writeParams, body: true),
                    "patch": op("patch", "patch\(id)Status", schemaRef, params: writeParams, body: true),
                ]
            }
        }
        return out
    }
}
