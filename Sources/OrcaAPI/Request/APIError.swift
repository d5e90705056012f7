import OrcaCore

/// A failed API request, rendered as a Kubernetes `Status` object.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: JSONValue?
    /// Extra response headers (e.g. `Retry-After`).
    public var retryAfterSeconds: Int?
    /// The Status's list metadata (the `continue` token of an expired paged list).
    public var listMeta: JSONValue?

    public init(code: Int, reason: String, message: String, details: JSONValue? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { "\(code) \(reason): \(message)" }

    /// The `Status` body.
    public var status: JSONValue {
        var o: [String: JSONValue] = [
            "kind": "Status", "apiVersion": "v1", "metadata": listMeta ?? [:],
            "status": "Failure", "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
        ]
        if let details { o["details"] = details }
        return .object(o)
    }

    /// `details` of a Status about `name` of resource `r`.
    public static func details(_ r: ResourceType?, _ name: String?) -> JSONValue {
        var d: [String: JSONValue] = [:]
        if let name { d["name"] = .string(name) }
        if let r {
            if !r.group.isEmpty { d["group"] = .string(r.group) }
            d["kind"] = .string(r.resource)
        }
        return .object(d)
    }

    public static func notFound(_ r: ResourceType, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(r.groupResource) \"\(name)\" not found", details: details(r, name))
    }
    public static func alreadyExists(_ r: ResourceType, _ name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(r.groupResource) \"\(name)\" already exists", details: details(r, name))
    }
    public static func conflict(_ r: ResourceType, _ name: String, _ why: String) -> APIError {
        APIError(code: 409, reason: "Conflict",
                 message: "Operation cannot be fulfilled on \(r.groupResource) \"\(name)\": \(why)", details: details(r, name))
    }
    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }
    public static func gone(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }
    public static func methodNotAllowed(_ message: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }
    public static func pathNotFound(_ path: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: ["causes": [["reason": "UnexpectedServerResponse", "message": .string("404 page not found: \(path)")]]])
    }
    public static func unauthorized() -> APIError {
        APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
    }
    public static func forbidden(_ message: String) -> APIError {
        APIError(code: 403, reason: "Forbidden", message: message)
    }
    public static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }
    /// 413: a request body over `limit` bytes (kube-apiserver's words).
    public static func requestEntityTooLarge(limit: Int) -> APIError {
        APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(limit)")
    }
    /// 429 with `Retry-After: 1`: the server is serving as many requests as it may.
    public static func tooManyRequests() -> APIError {
        var e = APIError(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
                         details: ["retryAfterSeconds": 1])
        e.retryAfterSeconds = 1
        return e
    }
    /// 406: the response cannot take the form the client's Accept asks for (a Table of an object
    /// that has none).
    public static func notAcceptable(_ accepted: [String]) -> APIError {
        APIError(code: 406, reason: "NotAcceptable", message: "only the following media types are accepted: \(accepted.joined(separator: ", "))")
    }

    public static func unsupportedMediaType(_ type: String) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got \(type))")
    }
}
