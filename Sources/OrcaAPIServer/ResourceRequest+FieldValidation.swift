import Foundation
import OrcaAPI
import Synchronization

extension ResourceRequest {
    /// The body of a create or update, checked against the schema under the request's
    /// `fieldValidation` and pruned of unknown fields; with the warnings owed to the client.
    /// `options` is `CreateOptions` or `UpdateOptions` (named in errors).
    func validatedBody(_ r: ResourceType, options: String) async throws -> (object: JSONValue, warnings: [String]) {
        let validation = try fieldValidation(r, options: options)
        let bytes = try await rawBody()
        var object = try BodyDecoder.decode(bytes, contentType: request.headers[.contentType])
        // Duplicates are looked for in JSON bodies only (a YAML body is JSON when it parses as JSON),
        // and only when someone will hear of them.
        var duplicates: [String] = []
        if validation.directive != .ignore {
            let yaml = (request.headers[.contentType] ?? "").lowercased().contains("yaml")
            if !yaml || (try? JSONValue.parse(bytes)) != nil { duplicates = DuplicateJSONFields.paths(in: bytes) }
        }
        let warnings = try validation.check(body: &object, r, duplicates: duplicates)
        return (object, warnings)
    }

    /// The request's `fieldValidation` for bodies of `r`: a custom resource's are judged by its
    /// version's structural schema, a built-in kind's by the bundled OpenAPI schema.
    /// `options` is `CreateOptions`, `UpdateOptions` or `PatchOptions` (named in errors).
    func fieldValidation(_ r: ResourceType, options: String) throws -> FieldValidation {
        var validation = try FieldValidation(query: query, options: options)
        validation.schema = FieldValidation.Schema(r, served: registry.served)
        return validation
    }
}

/// Warnings gathered inside a `@Sendable` update closure (a retried closure replaces them).
final class RequestWarnings: Sendable {
    private let storage = Mutex<[String]>([])

    init() {}

    var all: [String] { storage.withLock { $0 } }

    func replace(with warnings: [String]) { storage.withLock { $0 = warnings } }
}
