import Foundation
import OrcaCore

extension APIError {
    /// The error an API server's answer means: its `Status` body (code, reason, message,
    /// details), or — for a body that is not a Status, from a proxy, say — the reason
    /// client-go gives the HTTP status. `Retry-After` (or `details.retryAfterSeconds`)
    /// becomes `retryAfterSeconds`.
    public init(httpStatus: Int, retryAfter: String?, body: some Collection<UInt8>) {
        let status = (try? JSONValue.parse(body)).flatMap { $0.objectValue != nil ? $0 : nil }
        if let status, status["kind"]?.stringValue == "Status" || status["reason"] != nil || status["code"] != nil {
            let code = status["code"]?.intValue.map(Int.init).flatMap { $0 == 0 ? nil : $0 } ?? httpStatus
            let reason = status["reason"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? APIError.reason(forStatus: code)
            let message = status["message"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                ?? "the server responded with the status code \(code) but did not return more information"
            self.init(code: code, reason: reason, message: message, details: status["details"])
        } else {
            let text = String(decoding: body.prefix(1024), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let message = text.isEmpty
                ? "the server responded with the status code \(httpStatus) but did not return more information"
                : "an error on the server (\"\(text)\") has prevented the request from succeeding"
            self.init(code: httpStatus, reason: APIError.reason(forStatus: httpStatus), message: message)
        }
        if let retryAfter, let seconds = Int(retryAfter.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            retryAfterSeconds = seconds
        } else if let seconds = details?["retryAfterSeconds"]?.intValue, seconds > 0 {
            retryAfterSeconds = Int(seconds)
        }
    }

    /// The `StatusReason` Kubernetes gives an HTTP status (apimachinery's `reasonForError`
    /// and client-go's `newUnstructuredResponseError`).
    public static func reason(forStatus code: Int) -> String {
        switch code {
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 405: return "MethodNotAllowed"
        case 406: return "NotAcceptable"
        case 409: return "Conflict"
        case 410: return "Expired"
        case 413: return "RequestEntityTooLarge"
        case 415: return "UnsupportedMediaType"
        case 422: return "Invalid"
        case 429: return "TooManyRequests"
        case 500: return "InternalError"
        case 503: return "ServiceUnavailable"
        case 504: return "Timeout"
        default: return "Unknown"
        }
    }
}
