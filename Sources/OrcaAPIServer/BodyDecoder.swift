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

    /// YAML as JSON, the way sigs.k8s.io/yaml converts it: composed into nodes by libyaml and
    /// walked here (not by Yams' constructor, which traps on a mapping key that is not a scalar),
    /// resolving scalars by the YAML core schema. A non-scalar key, an alias, or a number JSON
    /// cannot hold (`.inf`, `.nan`) is a 400.
    static func yaml(_ text: String) throws -> JSONValue {
        let node: Yams.Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw APIError.badRequest("error converting YAML to JSON: \(error)")
        }
        guard let node else { return .null }
        return try convert(node, depth: 0)
    }

    static func convert(_ node: Yams.Node, depth: Int) throws -> JSONValue {
        guard depth < 1000 else { throw APIError.badRequest("error converting YAML to JSON: yaml: exceeded max depth of 1000") }
        switch node {
        case .scalar(let scalar):
            return try scalarValue(node, scalar.string)
        case .sequence(let sequence):
            return .array(try sequence.map { try convert($0, depth: depth + 1) })
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard case .scalar(let k) = key else {
                    throw APIError.badRequest("error converting YAML to JSON: yaml: a mapping key must be a string, not a \(key.isMapping ? "mapping" : "sequence")")
                }
                object[k.string] = try convert(value, depth: depth + 1)
            }
            return .object(object)
        case .alias:
            throw APIError.badRequest("error converting YAML to JSON: yaml: aliases are not accepted")
        }
    }

    /// A scalar by its resolved tag: null, bool, int, float or string.
    static func scalarValue(_ node: Yams.Node, _ text: String) throws -> JSONValue {
        switch node.tag.description {
        case Yams.Tag.Name.null.rawValue:
            return .null
        case Yams.Tag.Name.bool.rawValue:
            return node.bool.map(JSONValue.bool) ?? .string(text)
        case Yams.Tag.Name.int.rawValue:
            if let i = node.int { return .int(Int64(i)) }
            if let d = Double(text.replacingOccurrences(of: "_", with: "")), d.isFinite { return .double(d) }
            return .string(text)
        case Yams.Tag.Name.float.rawValue:
            guard let d = node.float else { return .string(text) }
            guard d.isFinite else {
                throw APIError.badRequest("error converting YAML to JSON: json: unsupported value: \(d)")
            }
            if let i = Int64(exactly: d), abs(d) < 1e15 { return .int(i) }
            return .double(d)
        default:
            return .string(text)
        }
    }
}

extension Yams.Node {
    fileprivate var isMapping: Bool {
        if case .mapping = self { return true }
        return false
    }
}
