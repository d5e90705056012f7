import OrcaAPI

/// The simple JSONPaths of CustomResourceDefinitions (printer columns, scale paths,
/// selectable fields): `.spec.replicas`, `.metadata.labels['app.kubernetes.io/name']`,
/// `.status.conditions[0].type`, `.spec.items[*].name`; an optional `{…}` around it.
public struct CustomResourceJSONPath: Sendable, Hashable {
    enum Step: Sendable, Hashable {
        case field(String)
        case index(Int)
        case all
    }

    let steps: [Step]

    /// Parses a path; nil when it is not a simple path starting with `.`.
    public init?(_ text: String) {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        if s.hasPrefix("{"), s.hasSuffix("}") { s = s.dropFirst().dropLast() }
        guard s.first == "." else { return nil }
        var steps: [Step] = []
        while let c = s.first {
            if c == "." {
                s = s.dropFirst()
                let name = s.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { return nil }
                steps.append(.field(String(name)))
                s = s.dropFirst(name.count)
            } else if c == "[" {
                guard let close = s.firstIndex(of: "]") else { return nil }
                let inner = s[s.index(after: s.startIndex)..<close]
                if inner == "*" {
                    steps.append(.all)
                } else if let n = Int(inner) {
                    steps.append(.index(n))
                } else if inner.count >= 2, let q = inner.first, q == "'" || q == "\"", inner.last == q {
                    steps.append(.field(String(inner.dropFirst().dropLast())))
                } else {
                    return nil
                }
                s = s[s.index(after: close)...]
            } else {
                return nil
            }
        }
        guard !steps.isEmpty else { return nil }
        self.steps = steps
    }

    /// Every value the path reaches in `object` (none when a step is missing).
    public func values(in object: JSONValue) -> [JSONValue] {
        var current = [object]
        for step in steps {
            var next: [JSONValue] = []
            for value in current {
                switch step {
                case .field(let name):
                    if let v = value.objectValue?[name] { next.append(v) }
                case .index(let n):
                    if let a = value.arrayValue {
                        let i = n < 0 ? a.count + n : n
                        if a.indices.contains(i) { next.append(a[i]) }
                    }
                case .all:
                    if let a = value.arrayValue { next += a } else if let o = value.objectValue { next += o.keys.sorted().map { o[$0]! } }
                }
            }
            current = next
        }
        return current
    }

    /// The field names of a path made only of fields (`.spec.replicas` → `["spec", "replicas"]`),
    /// for writing; nil when it has indices or wildcards.
    public var fieldNames: [String]? {
        var names: [String] = []
        for step in steps {
            guard case .field(let n) = step else { return nil }
            names.append(n)
        }
        return names
    }
}
