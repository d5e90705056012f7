import OrcaAPI
import OrcaCore
import OrcaStore

/// One bad field of an `Invalid` error (`details.causes[]`).
public struct StatusCause: Sendable, Hashable {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`, `FieldValueDuplicate`, `FieldValueForbidden`, …
    public var reason: String
    public var message: String
    /// The field path, e.g. `spec.containers[0].name`.
    public var field: String

    public init(_ reason: String, field: String, _ message: String) {
        self.reason = reason
        self.message = message
        self.field = field
    }

    public static func required(_ field: String, _ detail: String = "Required value") -> StatusCause {
        StatusCause("FieldValueRequired", field: field, "\(field): \(detail)")
    }
    public static func invalid(_ field: String, _ value: String, _ detail: String) -> StatusCause {
        StatusCause("FieldValueInvalid", field: field, "\(field): Invalid value: \"\(value)\": \(detail)")
    }
    public static func notSupported(_ field: String, _ value: String, _ supported: [String]) -> StatusCause {
        let list = supported.map { "\"\($0)\"" }.joined(separator: ", ")
        return StatusCause("FieldValueNotSupported", field: field, "\(field): Unsupported value: \"\(value)\": supported values: \(list)")
    }
    public static func duplicate(_ field: String, _ value: String) -> StatusCause {
        StatusCause("FieldValueDuplicate", field: field, "\(field): Duplicate value: \"\(value)\"")
    }
    public static func forbidden(_ field: String, _ detail: String) -> StatusCause {
        StatusCause("FieldValueForbidden", field: field, "\(field): Forbidden: \(detail)")
    }
}

extension APIError {
    /// 422 `Invalid` with one cause per bad field.
    public static func invalid(_ r: ResourceType, _ name: String, _ causes: [StatusCause]) -> APIError {
        var d = details(r, name)
        d["kind"] = .string(r.kind)
        // A cause's message is the error body without its field (kubectl prints `field: message`);
        // the Status message keeps both, as `field.ErrorList.ToAggregate()` does.
        d["causes"] = .array(causes.map { cause in
            let prefix = cause.field + ": "
            let body = !cause.field.isEmpty && cause.message.hasPrefix(prefix) ? String(cause.message.dropFirst(prefix.count)) : cause.message
            return ["reason": .string(cause.reason), "message": .string(body), "field": .string(cause.field)]
        })
        let list = causes.map(\.message).joined(separator: ", ")
        let msg = causes.count == 1 ? list : "[\(list)]"
        return APIError(code: 422, reason: "Invalid", message: "\(r.kind) \"\(name)\" is invalid: \(msg)", details: d)
    }
    /// Maps a lower-layer error onto the API error for `resource`/`name`.
    public static func from(_ error: any Error, resource: ResourceType?, name: String?) -> APIError {
        if let e = error as? APIError { return e }
        if let e = error as? OrcaError {
            switch e.code {
            case .keyExists, .alreadyExists:
                if let resource, let name { return .alreadyExists(resource, name) }
                return APIError(code: 409, reason: "AlreadyExists", message: e.message)
            case .keyNotFound, .notFound:
                if let resource, let name { return .notFound(resource, name) }
                return APIError(code: 404, reason: "NotFound", message: e.message)
            case .revisionMismatch, .conflict:
                if let resource, let name {
                    return .conflict(resource, name, "the object has been modified; please apply your changes to the latest version and try again")
                }
                return APIError(code: 409, reason: "Conflict", message: e.message)
            case .compacted, .gone:
                return .gone("The resourceVersion for the provided list is too old.")
            case .badRequest: return .badRequest(e.message)
            case .requestEntityTooLarge: return APIError(code: 413, reason: "RequestEntityTooLarge", message: e.message)
            case .invalid: return APIError(code: 422, reason: "Invalid", message: e.message)
            case .futureRevision:
                return APIError(code: 504, reason: "Timeout", message: "Too large resource version: \(e.message)")
            default:
                return .internalError(e.description)
            }
        }
        return .internalError(String(describing: error))
    }
}
