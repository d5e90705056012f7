import Foundation
import OrcaAPI

/// Decodes `application/vnd.kubernetes.protobuf` request bodies (what kubectl's generators
/// such as `kubectl create deployment` send) into the JSON a client would have sent.
///
/// The body is the magic `k8s\0` and a `runtime.Unknown` envelope whose `raw` bytes are the
/// object in the go-to-protobuf encoding of k8s.io/api. `ProtobufFieldTable` maps field
/// numbers to JSON properties; the bundled OpenAPI schema gives each property's type. Zero
/// values of Go value fields are dropped as `omitempty` would (unless the schema requires the
/// field); zero values of Go pointer fields are kept, since they were set on purpose.
enum ProtobufDecoder {
    /// The prefix of every Kubernetes protobuf body.
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]
    /// Deepest nesting of messages accepted.
    static let maxDepth = 100

    /// Decodes a whole body: magic, envelope, object.
    static func decode(_ bytes: [UInt8]) throws -> JSONValue {
        try decode(bytes[...], depth: 0)
    }

    static func decode(_ bytes: ArraySlice<UInt8>, depth: Int) throws -> JSONValue {
        guard bytes.starts(with: magic) else {
            throw APIError.badRequest("the protobuf request body does not start with the Kubernetes prefix \"k8s\\x00\"")
        }
        let envelope = try Envelope(bytes.dropFirst(magic.count))
        guard envelope.contentEncoding.isEmpty else {
            throw APIError.badRequest("the protobuf request body has unsupported content encoding \"\(envelope.contentEncoding)\"")
        }
        if envelope.contentType.lowercased().contains("json") {
            guard var object = try? JSONValue.parse(envelope.raw), object.objectValue != nil else {
                throw ProtobufReader.invalid("the embedded JSON object does not parse")
            }
            if object["apiVersion"] == nil, !envelope.apiVersion.isEmpty { object["apiVersion"] = .string(envelope.apiVersion) }
            if object["kind"] == nil, !envelope.kind.isEmpty { object["kind"] = .string(envelope.kind) }
            return object
        }
        guard envelope.contentType.isEmpty || envelope.contentType.lowercased().contains("protobuf") else {
            throw APIError.badRequest("the protobuf request body has unsupported content type \"\(envelope.contentType)\"")
        }
        guard !envelope.kind.isEmpty else {
            throw APIError.badRequest("Object 'Kind' is missing in the protobuf request body")
        }
        guard let definition = OpenAPISchema.definitionName(apiVersion: envelope.apiVersion, kind: envelope.kind),
              ProtobufFieldTable.messages[definition] != nil else {
            throw APIError.badRequest("no kind \"\(envelope.kind)\" is registered for version \"\(envelope.apiVersion)\"")
        }
        var object: [String: JSONValue] = [:]
        try decodeMessage(envelope.raw, table: definition, definition: definition, path: "", depth: depth + 1, into: &object)
        object["apiVersion"] = .string(envelope.apiVersion)
        object["kind"] = .string(envelope.kind)
        return .object(object)
    }

    /// `runtime.Unknown`: {1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}.
    struct Envelope {
        var apiVersion = ""
        var kind = ""
        var raw: ArraySlice<UInt8> = []
        var contentEncoding = ""
        var contentType = ""

        init(_ bytes: ArraySlice<UInt8>) throws {
            var reader = ProtobufReader(bytes)
            while let (number, value) = try reader.next() {
                switch (number, value) {
                case (1, .lengthDelimited(let typeMeta)):
                    var inner = ProtobufReader(typeMeta)
                    while let (n, v) = try inner.next() {
                        if n == 1, case .lengthDelimited(let s) = v { apiVersion = String(decoding: s, as: UTF8.self) }
                        if n == 2, case .lengthDelimited(let s) = v { kind = String(decoding: s, as: UTF8.self) }
                    }
                case (2, .lengthDelimited(let r)): raw = r
                case (3, .lengthDelimited(let s)): contentEncoding = String(decoding: s, as: UTF8.self)
                case (4, .lengthDelimited(let s)): contentType = String(decoding: s, as: UTF8.self)
                case (1...4, _): throw ProtobufReader.invalid("envelope field \(number) is not length-delimited")
                default: continue
                }
            }
        }
    }

    /// Decodes the fields of one message into `object`: `table` names its field numbers,
    /// `definition` the schema of its properties (they differ for an embedded message).
    static func decodeMessage(_ bytes: ArraySlice<UInt8>, table: String, definition: String, path: String,
                              depth: Int, into object: inout [String: JSONValue]) throws {
        guard depth <= maxDepth else { throw ProtobufReader.invalid("objects are nested more than \(maxDepth) deep") }
        let fields = ProtobufFieldTable.messages[table] ?? [:]
        let schema = OpenAPISchema.definitions[definition]
        let properties = schema?["properties"]?.objectValue ?? [:]
        var reader = ProtobufReader(bytes)
        while let (number, value) = try reader.next() {
            guard let field = fields[number] else { continue }  // unknown field: already skipped
            if field.kind == .inline {
                try decodeMessage(lengthDelimited(value, path), table: field.name, definition: definition,
                                  path: path, depth: depth + 1, into: &object)
                continue
            }
            let name = field.name
            guard let shape = properties[name].flatMap(ProtobufShape.init) else { continue }
            let fieldPath = path.isEmpty ? name : path + "." + name
            switch (shape, field.kind) {
            case (.list(let element), .wrappedList):
                // Taken out of `object` so the array is not copied on every repeated occurrence.
                var items = object.removeValue(forKey: name)?.arrayValue ?? []
                var inner = ProtobufReader(try lengthDelimited(value, fieldPath))
                while let (n, v) = try inner.next() {
                    if n == 1 { try appendRepeated(v, element, fieldPath, depth: depth, to: &items) }
                }
                object[name] = .array(items)
            case (.list(let element), _):
                var items = object.removeValue(forKey: name)?.arrayValue ?? []
                try appendRepeated(value, element, fieldPath, depth: depth, to: &items)
                object[name] = .array(items)
            case (.map(let valueShape), _):
                var entries = object.removeValue(forKey: name)?.objectValue ?? [:]
                let (key, entry) = try mapEntry(value, valueShape, fieldPath, depth: depth)
                entries[key] = entry
                object[name] = .object(entries)
            case (.message(let ref), _) where !isWellKnown(ref):
                // Repeated occurrences of a message field merge, as protobuf specifies.
                var nested = object.removeValue(forKey: name)?.objectValue ?? [:]
                try decodeMessage(lengthDelimited(value, fieldPath), table: ref, definition: ref, path: fieldPath,
                                  depth: depth + 1, into: &nested)
                object[name] = .object(nested)
            default:
                let decoded = try single(value, shape, fieldPath, depth: depth)
                if let decoded, field.kind == .pointer || !decoded.isZeroValue || isRequired(name, schema) {
                    object[name] = decoded
                } else {
                    object.removeValue(forKey: name)
                }
            }
        }
    }

    /// One value of `shape`; nil for a value whose JSON form is absent (a zero time, an empty raw extension).
    static func single(_ value: ProtobufReader.Value, _ shape: ProtobufShape, _ path: String, depth: Int) throws -> JSONValue? {
        switch (shape, value) {
        case (.string, .lengthDelimited(let s)): return .string(String(decoding: s, as: UTF8.self))
        case (.bytes, .lengthDelimited(let b)): return .string(Data(b).base64EncodedString())
        case (.int32, .varint(let v)): return .int(Int64(Int32(truncatingIfNeeded: v)))
        case (.int64, .varint(let v)): return .int(Int64(bitPattern: v))
        case (.bool, .varint(let v)): return .bool(v != 0)
        case (.double, .fixed64(let v)): return .double(Double(bitPattern: v))
        case (.double, .fixed32(let v)): return .double(Double(Float(bitPattern: v)))
        case (.message(let ref), .lengthDelimited(let b)):
            if isWellKnown(ref) { return try wellKnown(ref, b, path, depth: depth + 1) }
            var nested: [String: JSONValue] = [:]
            try decodeMessage(b, table: ref, definition: ref, path: path, depth: depth + 1, into: &nested)
            return .object(nested)
        case (.list(let element), .lengthDelimited(let b)):
            // A list inside a list or map travels as a wrapper message of `repeated items = 1`.
            var items: [JSONValue] = []
            var inner = ProtobufReader(b)
            while let (n, v) = try inner.next() {
                if n == 1 { try appendRepeated(v, element, path, depth: depth + 1, to: &items) }
            }
            return .array(items)
        default:
            throw ProtobufReader.invalid("\(path): a \(value.wireTypeName) value cannot hold \(shape.jsonTypeName)")
        }
    }

    /// Appends one occurrence of a repeated field: a single element, or a packed run of scalars.
    static func appendRepeated(_ value: ProtobufReader.Value, _ element: ProtobufShape, _ path: String, depth: Int,
                               to items: inout [JSONValue]) throws {
        let elementPath = "\(path)[\(items.count)]"
        if element.isPackable, case .lengthDelimited(let packed) = value {
            var reader = ProtobufReader(packed)
            while !reader.isAtEnd {
                let v: ProtobufReader.Value
                if element == .double {
                    v = .fixed64(try reader.readFixed64())
                } else {
                    v = .varint(try reader.readVarint())
                }
                if let decoded = try single(v, element, elementPath, depth: depth) { items.append(decoded) }
            }
            return
        }
        items.append(try single(value, element, elementPath, depth: depth) ?? .null)
    }

    /// A map entry message `{1: key, 2: value}`; a missing value is the zero value of its type.
    static func mapEntry(_ value: ProtobufReader.Value, _ shape: ProtobufShape, _ path: String,
                         depth: Int) throws -> (String, JSONValue) {
        var reader = ProtobufReader(try lengthDelimited(value, path))
        var key = ""
        var entry: JSONValue?
        while let (n, v) = try reader.next() {
            if n == 1 {
                guard case .lengthDelimited(let s) = v else { throw ProtobufReader.invalid("\(path): a map key is not a string") }
                key = String(decoding: s, as: UTF8.self)
            } else if n == 2 {
                entry = try single(v, shape, "\(path)[\(key)]", depth: depth)
            }
        }
        return (key, try entry ?? zeroValue(shape, "\(path)[\(key)]", depth: depth))
    }

    /// What Go decodes for an absent value of `shape`.
    static func zeroValue(_ shape: ProtobufShape, _ path: String, depth: Int) throws -> JSONValue {
        switch shape {
        case .string, .bytes: return .string("")
        case .int32, .int64: return .int(0)
        case .bool: return .bool(false)
        case .double: return .double(0)
        case .list: return .array([])
        case .map: return .object([:])
        case .message: return try single(.lengthDelimited([]), shape, path, depth: depth) ?? .null
        }
    }

    static func lengthDelimited(_ value: ProtobufReader.Value, _ path: String) throws -> ArraySlice<UInt8> {
        guard case .lengthDelimited(let bytes) = value else {
            throw ProtobufReader.invalid("\(path): a \(value.wireTypeName) value cannot hold an object")
        }
        return bytes
    }

    static func isRequired(_ name: String, _ schema: JSONValue?) -> Bool {
        schema?["required"]?.arrayValue?.contains(.string(name)) ?? false
    }
}

extension ProtobufShape {
    fileprivate var jsonTypeName: String {
        switch self {
        case .string: return "a string"
        case .bytes: return "a byte string"
        case .int32, .int64: return "an integer"
        case .bool: return "a boolean"
        case .double: return "a number"
        case .message(let ref): return "a \(ref.split(separator: ".").last ?? "")"
        case .list: return "a list"
        case .map: return "a map"
        }
    }
}

extension JSONValue {
    /// The zero value of a Go scalar: what `omitempty` leaves out.
    fileprivate var isZeroValue: Bool {
        switch self {
        case .null: return true
        case .bool(let b): return !b
        case .int(let i): return i == 0
        case .double(let d): return d == 0
        case .string(let s): return s.isEmpty
        case .array, .object: return false
        }
    }
}
