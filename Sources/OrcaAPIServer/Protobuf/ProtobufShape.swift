import OrcaAPI

/// The JSON type of a property, read from the OpenAPI schema: how its protobuf value is decoded.
indirect enum ProtobufShape: Sendable, Hashable {
    case string
    /// `type: string, format: byte`: protobuf `bytes`, base64 in JSON.
    case bytes
    case int32
    case int64
    case bool
    case double
    /// A `$ref` to a definition: a nested message (or one of the well-known types).
    case message(String)
    /// `type: array`: a repeated field (or, nested in another list or a map, a wrapper message).
    case list(ProtobufShape)
    /// `additionalProperties`: repeated map entries `{1: key, 2: value}`.
    case map(ProtobufShape)

    /// The shape of property `name` of definition `definition`, or nil if the schema lacks it.
    static func property(_ name: String, of definition: String) -> ProtobufShape? {
        OpenAPISchema.definitions[definition]?["properties"]?[name].flatMap(ProtobufShape.init)
    }

    /// Reads a property schema; nil for a free-form value the decoder cannot type.
    init?(_ schema: JSONValue) {
        if let ref = schema["$ref"]?.stringValue ?? schema["allOf"]?.arrayValue?.first?["$ref"]?.stringValue {
            self = .message(String(ref.split(separator: "/").last ?? ""))
            return
        }
        switch schema["type"]?.stringValue {
        case "string":
            self = schema["format"]?.stringValue == "byte" ? .bytes : .string
        case "integer":
            self = schema["format"]?.stringValue == "int32" ? .int32 : .int64
        case "boolean":
            self = .bool
        case "number":
            self = .double
        case "array":
            guard let items = schema["items"].flatMap(ProtobufShape.init) else { return nil }
            self = .list(items)
        default:
            guard let values = schema["additionalProperties"].flatMap(ProtobufShape.init) else { return nil }
            self = .map(values)
        }
    }

    /// True for scalars that a packed repeated field may hold.
    var isPackable: Bool {
        switch self {
        case .int32, .int64, .bool, .double: return true
        case .string, .bytes, .message, .list, .map: return false
        }
    }
}
