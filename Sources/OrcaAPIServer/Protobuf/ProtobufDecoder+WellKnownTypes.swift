import OrcaAPI

/// The apimachinery types whose JSON form is not an object of their protobuf fields.
extension ProtobufDecoder {
    static let time = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
    static let microTime = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
    static let quantity = "io.k8s.apimachinery.pkg.api.resource.Quantity"
    static let intOrString = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
    static let rawExtension = "io.k8s.apimachinery.pkg.runtime.RawExtension"
    static let fieldsV1 = "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"

    static func isWellKnown(_ definition: String) -> Bool {
        definition == time || definition == microTime || definition == quantity || definition == intOrString
            || definition == rawExtension || definition == fieldsV1
    }

    /// Decodes a well-known type; nil where Go's JSON is `null` (a zero time, an empty raw extension).
    static func wellKnown(_ definition: String, _ bytes: ArraySlice<UInt8>, _ path: String, depth: Int) throws -> JSONValue? {
        var reader = ProtobufReader(bytes)
        switch definition {
        case time, microTime:
            // Timestamp {1: seconds int64, 2: nanos int32}; Go writes a zero time as an empty message.
            var seconds: Int64 = 0
            var nanos: Int64 = 0
            while let (n, v) = try reader.next() {
                if n == 1 { seconds = Int64(bitPattern: try varint(v, path)) }
                if n == 2 { nanos = Int64(Int32(truncatingIfNeeded: try varint(v, path))) }
            }
            if bytes.isEmpty || (seconds == Int64(KubernetesTime.goZeroTimeSeconds) && nanos == 0) { return nil }
            return .string(ProtobufTimestamp.format(seconds: seconds, nanos: nanos, microseconds: definition == microTime))
        case quantity:
            // {1: string}; Go's zero Quantity is "0".
            var text = ""
            while let (n, v) = try reader.next() {
                if n == 1 { text = String(decoding: try lengthDelimited(v, path), as: UTF8.self) }
            }
            return .string(text.isEmpty ? "0" : text)
        case intOrString:
            // {1: type (0 int, 1 string), 2: intVal int32, 3: strVal}.
            var isString = false
            var intVal: Int32 = 0
            var strVal = ""
            while let (n, v) = try reader.next() {
                switch n {
                case 1: isString = try varint(v, path) == 1
                case 2: intVal = Int32(truncatingIfNeeded: try varint(v, path))
                case 3: strVal = String(decoding: try lengthDelimited(v, path), as: UTF8.self)
                default: continue
                }
            }
            return isString ? .string(strVal) : .int(Int64(intVal))
        default:
            // RawExtension and FieldsV1: {1: raw bytes}, JSON (a RawExtension may also nest a protobuf object).
            var raw: ArraySlice<UInt8> = []
            while let (n, v) = try reader.next() {
                if n == 1 { raw = try lengthDelimited(v, path) }
            }
            if raw.isEmpty { return nil }
            if definition == rawExtension, raw.starts(with: magic) { return try decode(raw, depth: depth + 1) }
            guard let json = try? JSONValue.parse(raw) else {
                throw ProtobufReader.invalid("\(path): the embedded raw value is not JSON")
            }
            return json
        }
    }

    static func varint(_ value: ProtobufReader.Value, _ path: String) throws -> UInt64 {
        guard case .varint(let v) = value else {
            throw ProtobufReader.invalid("\(path): a \(value.wireTypeName) value cannot hold an integer")
        }
        return v
    }
}
