import Foundation
import OrcaCore
import Yams

extension EncryptionConfiguration {
    /// Parses and validates a configuration (YAML or JSON) as kube-apiserver does; every
    /// problem is listed in one `.invalid` error, with key secrets shown as `REDACTED`.
    public static func parse(_ text: String) throws -> EncryptionConfiguration {
        let root = try document(text)
        guard let top = root.objectValue else {
            throw OrcaError(.invalid, "encryption provider configuration: expected a mapping at the top level")
        }
        let apiVersion = top["apiVersion"]?.stringValue ?? ""
        let kind = top["kind"]?.stringValue ?? ""
        guard apiVersion == Self.apiVersion, kind == Self.kind else {
            throw OrcaError(.invalid, "encryption provider configuration: expected apiVersion \(Self.apiVersion) and kind \(Self.kind), got apiVersion \"\(apiVersion)\" and kind \"\(kind)\"")
        }
        var errors: [String] = []
        var configs: [ResourceConfiguration] = []
        let entries = top["resources"]?.arrayValue ?? []
        if entries.isEmpty { errors.append("resources: Required value: at least one resources is required") }
        for (i, entry) in entries.enumerated() {
            let path = "resources[\(i)]"
            let names = strings(entry["resources"], "\(path).resources", &errors)
            errors += validateResourceNames(names, path: "\(path).resources")
            var providers: [Provider] = []
            let elements = entry["providers"]?.arrayValue ?? []
            if elements.isEmpty { errors.append("\(path).providers: Required value: at least one provider is required") }
            for (j, element) in elements.enumerated() {
                if let p = provider(element, path: "\(path).providers[\(j)]", &errors) { providers.append(p) }
            }
            configs.append(ResourceConfiguration(resources: names, providers: providers))
        }
        if !errors.isEmpty {
            throw OrcaError(.invalid, "invalid encryption provider configuration: " + errors.joined(separator: "; "))
        }
        return EncryptionConfiguration(resources: configs)
    }

    /// The key sizes (bytes) AES accepts; kube-apiserver allows all three for aesgcm and aescbc.
    static let aesKeySizes = [16, 24, 32]

    /// One element of `providers`: exactly one provider type.
    private static func provider(_ element: JSONValue, path: String, _ errors: inout [String]) -> Provider? {
        guard let fields = element.objectValue else {
            errors.append("\(path): Invalid value: expected a mapping with one provider")
            return nil
        }
        let known = ["aesgcm", "aescbc", "secretbox", "kms", "identity"]
        let present = known.filter { fields[$0] != nil }
        guard present.count == 1, let type = present.first else {
            errors.append(present.isEmpty
                ? "\(path): Required value: one of \(known.joined(separator: ", ")) is required"
                : "\(path): Invalid value: more than one provider specified in a single element, should split into different list elements")
            return nil
        }
        switch type {
        case "identity":
            return .identity
        case "aesgcm", "aescbc":
            let keys = self.keys(fields[type]?["keys"], path: "\(path).\(type).keys", &errors)
            return type == "aesgcm" ? .aesgcm(keys: keys) : .aescbc(keys: keys)
        default:
            errors.append("\(path).\(type): Unsupported value: \"\(type)\": Orca supports the aesgcm, aescbc and identity providers")
            return nil
        }
    }

    private static func keys(_ value: JSONValue?, path: String, _ errors: inout [String]) -> [Key] {
        let entries = value?.arrayValue ?? []
        if entries.isEmpty { errors.append("\(path): Required value: at least one key is required") }
        var keys: [Key] = []
        var seen: Set<String> = []
        for (i, entry) in entries.enumerated() {
            let p = "\(path)[\(i)]"
            let name = entry["name"]?.stringValue ?? ""
            let secret = entry["secret"]?.stringValue ?? ""
            var ok = true
            if name.isEmpty {
                errors.append("\(p).name: Required value: key name is required")
                ok = false
            } else if !seen.insert(name).inserted {
                errors.append("\(p).name: Duplicate value: \"\(name)\": key names must be unique")
                ok = false
            }
            if secret.isEmpty {
                errors.append("\(p).secret: Required value: secret is required")
                ok = false
            } else if let bytes = Data(base64Encoded: secret) {
                if !aesKeySizes.contains(bytes.count) {
                    errors.append("\(p).secret: Invalid value: \"REDACTED\": secret is not of the expected length, got \(bytes.count), expected one of \(aesKeySizes)")
                    ok = false
                }
                if ok { keys.append(Key(name: name, secret: Array(bytes))) }
            } else {
                errors.append("\(p).secret: Invalid value: \"REDACTED\": secrets must be base64 encoded")
            }
        }
        return keys
    }

    /// kube-apiserver's checks of a `resources` list.
    static func validateResourceNames(_ names: [String], path: String) -> [String] {
        var errors: [String] = []
        if names.isEmpty { errors.append("\(path): Required value: at least one resource is required") }
        var seen: Set<String> = []
        for (i, name) in names.enumerated() {
            let p = "\(path)[\(i)]"
            let (resource, group) = split(name)
            if name.isEmpty {
                errors.append("\(p): Required value: resource name is required")
            } else if name != name.lowercased() {
                errors.append("\(p): Invalid value: \"\(name)\": resource name should not contain capital letters")
            } else if name == "*" || resource.isEmpty || (resource.contains("*") && resource != "*") || (group.contains("*") && group != "*") {
                errors.append("\(p): Invalid value: \"\(name)\": use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources")
            } else if group == "events.k8s.io" {
                errors.append("\(p): Invalid value: \"\(name)\": '*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file")
            } else if group == "extensions" {
                errors.append("\(p): Invalid value: \"\(name)\": 'extensions' group has been removed and cannot be used for encryption")
            } else if !seen.insert("\(resource).\(group)").inserted {
                errors.append("\(p): Duplicate value: \"\(name)\": the same resource cannot be specified multiple times")
            }
        }
        // A wildcard masks the names it covers in the same list.
        let parsed = names.map { split($0) }
        for (i, (resource, group)) in parsed.enumerated() where resource != "*" {
            if parsed.contains(where: { $0.resource == "*" && ($0.group == group || $0.group == "*") }) {
                errors.append("\(path)[\(i)]: Invalid value: \"\(names[i])\": using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked")
            }
        }
        return errors
    }

    /// A list of strings at `path`.
    private static func strings(_ value: JSONValue?, _ path: String, _ errors: inout [String]) -> [String] {
        guard let items = value?.arrayValue else { return [] }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            if let s = item.stringValue { out.append(s) } else { errors.append("\(path)[\(i)]: Invalid value: expected a string") }
        }
        return out
    }

    // MARK: YAML and JSON

    /// The document as JSON values: JSON is read as JSON; YAML with every scalar a string
    /// (Yams' basic resolver), so a key named `1` or `true` stays a name.
    static func document(_ text: String) throws -> JSONValue {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{"), let json = try? JSONValue.parse(trimmed) { return json }
        let node: Any?
        do {
            node = try Yams.load(yaml: text, .basic)
        } catch {
            throw OrcaError(.invalid, "encryption provider configuration is not valid YAML or JSON: \(describe(error))")
        }
        return convert(node)
    }

    /// A YAML error without the text it quotes (the line may hold a key).
    static func describe(_ error: any Error) -> String {
        guard let e = error as? YamlError else { return "\(type(of: error))" }
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        case .reader(let problem, _, _, _):
            return problem
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "duplicated keys \(duplicates) at line \(context.mark.line)"
        default:
            return "unreadable YAML"
        }
    }

    static func convert(_ value: Any?) -> JSONValue {
        switch value {
        case nil: return .null
        case let s as String: return .string(s)
        case let a as [Any]: return .array(a.map { convert($0) })
        case let m as [AnyHashable: Any]:
            return .object(Dictionary(m.map { ($0.key.base as? String ?? "\($0.key)", convert($0.value)) }, uniquingKeysWith: { a, _ in a }))
        case let v?: return .string("\(v)")
        }
    }
}
