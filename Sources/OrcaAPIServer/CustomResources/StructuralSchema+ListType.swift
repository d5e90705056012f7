import Foundation
import OrcaCore

extension StructuralSchema {
    /// Duplicates in `x-kubernetes-list-type: set` lists (whole elements) and `map` lists (the
    /// `x-kubernetes-list-map-keys` of each element), as apiextensions' `listtype` validation reports them:
    /// `spec.tags[2]: Duplicate value: "a"`, one error per value that repeats (at its second index).
    func listTypeErrors(_ object: JSONValue) -> [StatusCause] {
        var errs: [StatusCause] = []
        walkListTypes(object, path: "", into: &errs)
        return errs
    }

    /// `apiVersion` and `kind` of every nested `x-kubernetes-embedded-resource` object (apiextensions'
    /// `objectmeta.Validate` below the root): both required, strings, and well-formed.
    func embeddedResourceErrors(_ object: JSONValue) -> [StatusCause] {
        var errs: [StatusCause] = []
        walkEmbedded(object, path: "", isRoot: true, into: &errs)
        return errs
    }

    private static func child(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func walkListTypes(_ value: JSONValue, path: String, into errs: inout [StatusCause]) {
        switch value {
        case .object(let o):
            for key in o.keys.sorted() {
                if let p = properties[key] {
                    p.walkListTypes(o[key]!, path: Self.child(path, key), into: &errs)
                } else if let ap = additionalProperties?.schema {
                    ap.walkListTypes(o[key]!, path: "\(path)[\(key)]", into: &errs)
                }
            }
        case .array(let a):
            switch listType {
            case "set"?:
                for i in Self.repeats(a) { errs.append(SchemaFieldError.duplicate("\(path)[\(i)]", a[i])) }
            case "map"?:
                errs += listMapErrors(a, path: path)
            default:
                break
            }
            if let items {
                for (i, element) in a.enumerated() { items.walkListTypes(element, path: "\(path)[\(i)]", into: &errs) }
            }
        default:
            break
        }
    }

    private func listMapErrors(_ a: [JSONValue], path: String) -> [StatusCause] {
        for (i, element) in a.enumerated() {
            switch element {
            case .object, .null: continue
            default: return [SchemaFieldError.invalid("\(path)[\(i)]", element, "must be an object for an array of list-type map")]
            }
        }
        guard a.count > 1 else { return [] }
        // A key that is absent differs from one that is null; `nil` stands for absent.
        if listMapKeys.count == 1 {
            let keyField = listMapKeys[0]
            let keys: [JSONValue?] = a.map { $0[keyField] }
            return Self.repeats(keys).map { i in
                SchemaFieldError.duplicate("\(path)[\(i)]", keys[i].map { .object([keyField: $0]) } ?? .object([:]))
            }
        }
        let keys: [JSONValue] = a.map { element in
            var key: [String: JSONValue] = [:]
            for k in listMapKeys { key[k] = element[k] }
            return .object(key)
        }
        return Self.repeats(keys).map { SchemaFieldError.duplicate("\(path)[\($0)]", keys[$0]) }
    }

    /// The index of the second appearance of every value that appears more than once.
    private static func repeats<T: Hashable>(_ values: [T]) -> [Int] {
        var seen: [T: Int] = [:]
        var out: [Int] = []
        for (i, v) in values.enumerated() {
            let times = seen[v, default: 0]
            if times == 1 { out.append(i) }
            seen[v] = times + 1
        }
        return out
    }

    private func walkEmbedded(_ value: JSONValue, path: String, isRoot: Bool, into errs: inout [StatusCause]) {
        switch value {
        case .object(let o):
            if embeddedResource && !isRoot { errs += Self.embeddedTypeMetaErrors(o, path: path) }
            for key in o.keys.sorted() {
                if let p = properties[key] {
                    p.walkEmbedded(o[key]!, path: Self.child(path, key), isRoot: false, into: &errs)
                } else if let ap = additionalProperties?.schema {
                    ap.walkEmbedded(o[key]!, path: "\(path)[\(key)]", isRoot: false, into: &errs)
                }
            }
        case .array(let a):
            if let items {
                for (i, element) in a.enumerated() { items.walkEmbedded(element, path: "\(path)[\(i)]", isRoot: false, into: &errs) }
            }
        default:
            break
        }
    }

    private static func embeddedTypeMetaErrors(_ o: [String: JSONValue], path: String) -> [StatusCause] {
        var errs: [StatusCause] = []
        let apiVersionPath = child(path, "apiVersion"), kindPath = child(path, "kind")
        switch o["apiVersion"] {
        case nil, .string("")?:
            errs.append(SchemaFieldError.required(apiVersionPath))
        case .string(let s)?:
            if s.filter({ $0 == "/" }).count > 1 {
                errs.append(SchemaFieldError.invalid(apiVersionPath, .string(s), "unexpected GroupVersion string: \(s)"))
            }
        case let v?:
            errs.append(SchemaFieldError.invalid(apiVersionPath, v, "must be a string"))
        }
        switch o["kind"] {
        case nil, .string("")?:
            errs.append(SchemaFieldError.required(kindPath))
        case .string(let s)?:
            let problems = dns1035LabelErrors(s.lowercased())
            if !problems.isEmpty {
                errs.append(SchemaFieldError.invalid(kindPath, .string(s), "may have mixed case, but should otherwise match: " + problems.joined(separator: ",")))
            }
        case let v?:
            errs.append(SchemaFieldError.invalid(kindPath, v, "must be a string"))
        }
        if let m = o["metadata"], m.objectValue == nil {
            errs.append(SchemaFieldError.invalid(child(path, "metadata"), m, "must be an object"))
        }
        return errs
    }

    /// `validation.IsDNS1035Label`'s messages.
    static func dns1035LabelErrors(_ s: String) -> [String] {
        var errs: [String] = []
        if s.utf8.count > 63 { errs.append("must be no more than 63 characters") }
        let bytes = Array(s.utf8)
        func lowerAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
        let ok = bytes.first.map { $0 >= 0x61 && $0 <= 0x7a } == true && bytes.last.map(lowerAlnum) == true
            && bytes.allSatisfy { lowerAlnum($0) || $0 == UInt8(ascii: "-") }
        if !ok {
            errs.append("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
        }
        return errs
    }
}
