import OrcaCore

/// One event of an API watch (`{"type": "ADDED", "object": {…}}`).
public struct APIWatchEvent: Sendable {
    /// `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`.
    public var type: String
    public var object: JSONValue

    public init(type: String, object: JSONValue) {
        self.type = type
        self.object = object
    }

    /// The event as it goes on the wire.
    public var json: JSONValue { .object(["type": .string(type), "object": object]) }
}
