import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import OrcaAPI
import OrcaStreams

/// One request on a resource endpoint: picks the verb and calls the registry.
struct ResourceRequest {
    let handler: APIHandler
    let request: Request
    let context: APIServerContext
    let info: RequestInfo
    let query: [String: String]
    let resource: ResourceType?

    init(handler: APIHandler, request: Request, context: APIServerContext, info: RequestInfo) {
        self.handler = handler
        self.request = request
        self.context = context
        self.info = info
        self.query = ResourceRequest.parseQuery(request.uri.query)
        self.resource = handler.registry.catalog.resource(group: info.group, version: info.version, resource: info.resource)
    }

    /// The query as Go's `url.ParseQuery` reads it: `+` is a space (kubectl sends label
    /// selectors such as `tier+in+(a,b)`), then percent-decoding; the first value of a key wins.
    static func parseQuery(_ raw: String?) -> [String: String] {
        var q: [String: String] = [:]
        for pair in (raw ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let key = decode(parts[0])
            if q[key] == nil { q[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return q
    }

    var registry: Registry { handler.registry }
    var dryRun: Bool { query["dryRun"] == "All" }
    var wantsTable: Bool { (request.headers[.accept] ?? "").contains("as=Table") }

    /// The decoded request body; 413 over `APIServerContext.maxRequestBodyBytes`, 400 when empty or malformed.
    func body() async throws -> JSONValue {
        try BodyDecoder.decode(try await rawBody(), contentType: request.headers[.contentType])
    }

    /// The decoded body, or nil when there is none (DELETE's optional `DeleteOptions`); a body
    /// over the limit is still a 413 and a malformed one a 400.
    func optionalBody() async throws -> JSONValue? {
        let bytes = try await rawBody()
        if bytes.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) { return nil }
        return try BodyDecoder.decode(bytes, contentType: request.headers[.contentType])
    }

    /// The body's bytes, at most `maxRequestBodyBytes` (kube-apiserver's 3 MiB); refused with
    /// 413 before reading when `Content-Length` already says more.
    func rawBody() async throws -> [UInt8] {
        let limit = APIServerContext.maxRequestBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.requestEntityTooLarge(limit: limit)
        }
        var req = request
        do {
            return Array(try await req.collectBody(upTo: limit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError.requestEntityTooLarge(limit: limit)
        }
    }

    func serve() async throws -> Response {
        if let r = resource, Self.reviewResources.contains(r.groupResource) { return try await review(r) }
        guard var r = resource else {
            if info.group == "", info.resource == "bindings", request.method == .post, let ns = info.namespace {
                return try await bind(namespace: ns, name: nil)
            }
            throw APIError.pathNotFound(request.uri.path)
        }
        if info.namespace != nil, !r.namespaced { throw APIError.pathNotFound(request.uri.path) }
        if let sub = info.subresource, !r.subresources.contains(sub) { throw APIError.pathNotFound(request.uri.path) }
        let ns = r.namespaced ? info.namespace : nil
        if r.namespaced, info.namespace == nil, info.name != nil { throw APIError.pathNotFound(request.uri.path) }
        do {
            // Admission's warnings (webhooks, Pod Security) go out with the response.
            let warnings = AdmissionWarnings()
            var response = try await AdmissionWarnings.$current.withValue(warnings) {
                if let view = StorageView.of(r, catalog: registry.catalog) { return try await serve(r, ns, view: view) }
                return try await dispatch(&r, ns)
            }
            for w in warnings.warnings {
                response.headers.append(HTTPField(name: HTTPField.Name("Warning")!, value: WarningHeader.value(w)))
            }
            return response
        } catch {
            throw APIError.from(error, resource: r, name: info.name)
        }
    }

    func dispatch(_ r: inout ResourceType, _ ns: String?) async throws -> Response {
        let method = request.method
        if let name = info.name, let sub = info.subresource, PodStreamTarget.subresources.contains(sub), method == .get || method == .post {
            return try await streamWithoutUpgrade(r, ns, name, sub)
        }
        switch (method, info.name, info.subresource) {
        case (.get, nil, nil):
            let options = try ListOptions(query: query)
            try FieldLabels.check(options.fieldSelector, for: r, served: registry.served)
            if options.watch { return try await watch(r, ns, options) }
            let list = try await registry.list(r, namespace: ns, options: options)
            if wantsTable {
                return APIHandler.json(handler.tables.table(r, objects: list["items"]?.arrayValue ?? [], listMeta: list["metadata"], includeObject: query["includeObject"]))
            }
            return APIHandler.json(list)
        case (.get, let name?, nil), (.get, let name?, "status"?), (.get, let name?, "ephemeralcontainers"?):
            let obj = try await registry.get(r, namespace: ns, name: name)
            return respondObject(r, obj)
        case (.get, let name?, "scale"?):
            return APIHandler.json(try ScaleSubresource.scale(of: try await registry.get(r, namespace: ns, name: name), r,
                                                               paths: ScaleSubresource.paths(r, served: registry.served)))
        case (.get, let name?, "log"?):
            return try await logs(r, ns, name)
        case (.post, nil, nil):
            let (body, warnings) = try await validatedBody(r, options: "CreateOptions")
            let obj = try await registry.create(r, namespace: ns, object: body, dryRun: dryRun, user: context.user)
            return respondObject(r, obj, status: 201, warnings: warnings)
        case (.post, let name?, "token"?) where r.resource == "serviceaccounts" && r.group.isEmpty:
            return try await createToken(r, namespace: ns ?? "default", name: name)
        case (.post, let name?, "binding"?):
            return try await bind(namespace: ns ?? "default", name: name)
        case (.post, let name?, "eviction"?):
            let status = try await registry.evict(r, namespace: ns ?? "default", name: name, eviction: try await body(), dryRun: dryRun)
            return APIHandler.json(status, status: 201)
        case (.put, let name?, let sub) where sub == nil || sub == "status" || sub == "ephemeralcontainers" || sub == "approval":
            let (body, warnings) = try await validatedBody(r, options: "UpdateOptions")
            let obj = try await registry.update(r, namespace: ns, name: name, object: body, subresource: sub, dryRun: dryRun, user: context.user)
            return respondObject(r, obj, warnings: warnings)
        case (.put, let name?, "scale"?):
            let scale = try await body()
            let obj = try await ScaleSubresource.write(registry, r, ns, name, replicas: scale[path: ["spec", "replicas"]], resourceVersion: scale.resourceVersion)
            return APIHandler.json(try ScaleSubresource.scale(of: obj, r, paths: ScaleSubresource.paths(r, served: registry.served)))
        case (.put, let name?, "finalize"?):
            let b = try await body()
            let obj = try await registry.guaranteedUpdate(r, namespace: nil, name: name, subresource: "finalize", user: context.user) { cur in
                var next = cur
                next[path: ["spec", "finalizers"]] = b[path: ["spec", "finalizers"]]
                return next
            }
            return respondObject(r, obj)
        case (.patch, let name?, let sub):
            return try await patch(r, ns, name, sub)
        case (.delete, let name?, nil):
            let b = try await optionalBody()
            var options = DeletionOptions(body: b, query: query)
            if dryRun { options.dryRun = true }
            let (obj, deleted) = try await registry.delete(r, namespace: ns, name: name, options: options, user: context.user)
            if deleted, r.resource != "pods" {
                var details: [String: JSONValue] = ["name": .string(name), "kind": .string(r.resource)]
                if !r.group.isEmpty { details["group"] = .string(r.group) }
                if let uid = obj.metadataUID { details["uid"] = .string(uid) }
                return APIHandler.json(["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "details": .object(details)])
            }
            return respondObject(r, obj)
        case (.delete, nil, nil):
            let options = try ListOptions(query: query)
            try FieldLabels.check(options.fieldSelector, for: r, served: registry.served)
            let list = try await registry.list(r, namespace: ns, options: options)
            var deleted: [JSONValue] = []
            let b = try await optionalBody()
            for item in list["items"]?.arrayValue ?? [] {
                guard let name = item.metadataName else { continue }
                if let (obj, _) = try? await registry.delete(r, namespace: item.metadataNamespace, name: name, options: DeletionOptions(body: b, query: query), user: context.user) {
                    deleted.append(obj)
                }
            }
            var out = list
            out["items"] = .array(deleted)
            return APIHandler.json(out)
        default:
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    func respondObject(_ r: ResourceType, _ obj: JSONValue, status: Int = 200, warnings: [String] = []) -> Response {
        var headers: HTTPFields = [:]
        for w in warnings + registry.strategy(r).warnings(obj) {
            headers.append(HTTPField(name: HTTPField.Name("Warning")!, value: WarningHeader.value(w)))
        }
        if wantsTable {
            return APIHandler.json(handler.tables.table(r, objects: [obj], listMeta: ["resourceVersion": obj[path: ["metadata", "resourceVersion"]] ?? ""], includeObject: query["includeObject"]), status: status, headers: headers)
        }
        return APIHandler.json(obj, status: status, headers: headers)
    }

    /// `pods/binding` (and the legacy `bindings` collection): assigns a node once.
    func bind(namespace: String, name: String?) async throws -> Response {
        let binding = try await body()
        let podName = name ?? binding.metadataName ?? ""
        guard let node = binding[path: ["target", "name"]]?.stringValue, !node.isEmpty else {
            throw APIError.invalid(ResourceType("", "v1", "Binding", "bindings"), podName, [.required("target.name")])
        }
        let pods = registry.catalog.resource(group: "", version: "v1", resource: "pods")!
        _ = try await registry.bind(pods, namespace: namespace, name: podName, node: node)
        return APIHandler.json(["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": 201], status: 201)
    }
}
