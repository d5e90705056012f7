/// The one error type of Orca's lower layers: an extensible code, a message and a cause.
///
/// The API server maps codes to a Kubernetes `Status` (reason and HTTP code) in one place.
public struct OrcaError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; extend with `static let` in the module that needs one.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let notFound = Code("NotFound")
        public static let alreadyExists = Code("AlreadyExists")
        public static let conflict = Code("Conflict")
        public static let invalid = Code("Invalid")
        public static let badRequest = Code("BadRequest")
        public static let requestEntityTooLarge = Code("RequestEntityTooLarge")
        public static let gone = Code("Gone")
        public static let internalError = Code("InternalError")
        public static let unauthorized = Code("Unauthorized")
        public static let forbidden = Code("Forbidden")
        public static let methodNotAllowed = Code("MethodNotAllowed")
        public static let notAcceptable = Code("NotAcceptable")
        public static let unsupportedMediaType = Code("UnsupportedMediaType")
        public static let timeout = Code("Timeout")
        public static let unavailable = Code("ServiceUnavailable")
        public static let system = Code("SystemError")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(code): \(message): \(cause)" }
        return "\(code): \(message)"
    }
}
