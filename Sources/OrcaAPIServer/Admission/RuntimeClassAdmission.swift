import OrcaAPI

/// kube-apiserver's RuntimeClass admission: a new pod naming a `runtimeClassName` gets the
/// class's `overhead.podFixed` as `spec.overhead` and its `scheduling` (node selector and
/// tolerations) merged into its own; an unknown class, an overhead of its own that differs, or
/// a node selector that conflicts is refused (403), as is an overhead without a class.
public struct RuntimeClassAdmission: AdmissionPlugin {
    public let name = "RuntimeClass"

    public init() {}

    public func admit(_ a: inout AdmissionAttributes, registry: Registry) async throws {
        guard a.operation == .create, a.isCore("pods"), var pod = a.object,
              let runtimeClass = try await Self.runtimeClass(of: pod, a, registry: registry) else { return }
        if let overhead = runtimeClass[path: ["overhead", "podFixed"]], overhead.objectValue != nil {
            if let own = pod[path: ["spec", "overhead"]], !(own.objectValue ?? [:]).isEmpty, !Self.same(own, overhead) {
                throw a.forbidden("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead")
            }
            pod[path: ["spec", "overhead"]] = overhead
        }
        if let scheduling = runtimeClass["scheduling"] {
            var selector = pod[path: ["spec", "nodeSelector"]]?.objectValue ?? [:]
            for (key, value) in (scheduling["nodeSelector"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                if let own = selector[key], own != value {
                    throw a.forbidden("conflict: runtimeClass.scheduling.nodeSelector[\(key)] = \(value.stringValue ?? ""); pod.spec.nodeSelector[\(key)] = \(own.stringValue ?? "")")
                }
                selector[key] = value
            }
            if !selector.isEmpty { pod[path: ["spec", "nodeSelector"]] = .object(selector) }
            var tolerations = pod[path: ["spec", "tolerations"]]?.arrayValue ?? []
            for toleration in scheduling["tolerations"]?.arrayValue ?? [] where !tolerations.contains(toleration) {
                tolerations.append(toleration)
            }
            if !tolerations.isEmpty { pod[path: ["spec", "tolerations"]] = .array(tolerations) }
        }
        a.object = pod
    }

    public func validate(_ a: AdmissionAttributes, registry: Registry) async throws {
        guard a.operation == .create, a.isCore("pods"), let pod = a.object else { return }
        let overhead = pod[path: ["spec", "overhead"]]
        let hasOverhead = !(overhead?.objectValue ?? [:]).isEmpty
        guard let runtimeClass = try await Self.runtimeClass(of: pod, a, registry: registry) else {
            if hasOverhead { throw a.forbidden("pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead") }
            return
        }
        if let defined = runtimeClass[path: ["overhead", "podFixed"]], defined.objectValue != nil {
            if !Self.same(overhead ?? [:], defined) {
                throw a.forbidden("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead")
            }
        } else if hasOverhead {
            throw a.forbidden("pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead")
        }
    }

    /// The RuntimeClass the pod names; nil when it names none; 403 when it does not exist.
    static func runtimeClass(of pod: JSONValue, _ a: AdmissionAttributes, registry: Registry) async throws -> JSONValue? {
        guard let name = pod[path: ["spec", "runtimeClassName"]]?.stringValue, !name.isEmpty else { return nil }
        guard let classes = registry.catalog.resource(group: "node.k8s.io", version: "v1", resource: "runtimeclasses") else { return nil }
        guard let (found, _) = try await registry.read(classes, namespace: nil, name: name) else {
            throw a.forbidden("pod rejected: RuntimeClass \"\(name)\" not found")
        }
        return found
    }

    /// Two resource lists with the same quantities (`1000m` is `1`).
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        let x = a.objectValue ?? [:], y = b.objectValue ?? [:]
        guard Set(x.keys) == Set(y.keys) else { return false }
        return x.allSatisfy { key, value in
            guard let p = value.stringValue.flatMap({ try? Quantity(parsing: $0) }),
                  let q = y[key]?.stringValue.flatMap({ try? Quantity(parsing: $0) }) else { return value == y[key] }
            return p == q
        }
    }
}
