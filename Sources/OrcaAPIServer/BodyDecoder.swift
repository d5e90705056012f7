import Foundation
import OrcaAPI
import Yams

/// Decodes request bodies (JSON, or YAML for `application/yaml` and apply patches) into JSON values.
public enum BodyDecoder {
    /// The body as a JSON value, by content type (JSON, YAML, Kubernetes protobuf); a 400
    /// `APIError` for a malformed one, never a trap (fuzzed by `make fuzz`).
    public static func decode(_ bytes: [UInt8], contentType: String?) throws -> JSONValue {
        let type = (contentType ?? "application/json").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if bytes.isEmpty { throw APIError.badRequest("the request body is empty") }
        if type.hasSuffix("yaml") {
            if let first = bytes.first(where: { !($0 == 32 || $0 == 10 || $0 == 13 || $0 == 9) }), first == UInt8(ascii: "{"),
               let v = try? JSONValue.parse(bytes) {
                return v
            }
            if let alias = YAMLAliasScan.firstResolvedAlias(in: bytes) {
                // Aliases are expanded by copying: a few hundred bytes can expand to gigabytes.
                throw APIError.badRequest(
                    "error converting YAML to JSON: yaml: the document uses the alias *\(alias); aliases are not accepted (send JSON, or YAML without anchors and aliases)")
            }
            return try yaml(String(decoding: bytes, as: UTF8.self))
        }
        if type.contains("protobuf") { return try ProtobufDecoder.decode(bytes) }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw APIError.badRequest("the object provided is unrecognized (must be of type JSON): couldn't get version/kind; json parse error: \(describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let ctx) = error {
            return (ctx.underlyingError.map { "\($0)" } ?? ctx.debugDescription)
        }
        return "\(error)"
    }

    static func yaml(_ text: String) throws -> JSONValue {
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch {
            throw APIError.badRequest("error converting YAML to JSON: \(error)")
        }
        return convert(node)
    }

    static func convert(_ v: Any?) -> JSONValue {
        switch v {
        case nil: return .null
        case let b as Bool: return .bool(b)
        case let i as Int: return .int(Int64(i))
        case let d as Double: return d == d.rounded() && abs(d) < 1e15 ? .int(Int64(d)) : .double(d)
        case let s as String: return .string(s)
        case let a as [Any?]: return .array(a.map(convert))
        case let a as [Any]: return .array(a.map { convert($0) })
        case let m as [AnyHashable: Any?]: return .object(Dictionary(m.map { ("\($0.key)", convert($0.value)) }, uniquingKeysWith: { a, _ in a }))
        case let m as [AnyHashable: Any]: return .object(Dictionary(m.map { ("\($0.key)", convert($0.value)) }, uniquingKeysWith: { a, _ in a }))
        case let d as Date:
            let f = ISO8601DateFormatter()
            return .string(f.string(from: d))
        case let data as Data: return .string(data.base64EncodedString())
        default:
            if v is NSNull { return .null }
            return .string("\(v!)")
        }
    }
}
