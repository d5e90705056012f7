import Foundation
import OrcaAPI

/// The `scale` subresource: an `autoscaling/v1` `Scale` view of a workload's replicas. Built-in
/// kinds keep them at `spec.replicas`, `status.replicas` and the `spec.selector` label selector;
/// a custom resource where its version's `subresources.scale` says (apiextensions-apiserver's
/// ScaleREST). One code path reads and writes both, given the `Paths`.
enum ScaleSubresource {
    /// Where an object keeps what its Scale shows.
    struct Paths: Sendable, Equatable {
        /// `spec.replicas` (a custom resource's `specReplicasPath`).
        var specReplicas: [String]
        /// `status.replicas` (a custom resource's `statusReplicasPath`); missing reads as 0.
        var statusReplicas: [String]
        var selector: Selector
        /// A custom resource's `specReplicasPath` as written (`.spec.size`). Set, a missing spec
        /// replicas value is an error — reading the Scale is a 500, a patch that leaves it unset a
        /// 400 — as in apiextensions-apiserver; unset (built-in kinds), it reads as 1.
        var customSpecReplicasPath: String?

        /// The built-in kinds' paths (a ReplicationController's selector is a map of labels).
        static func builtIn(_ r: ResourceType) -> Paths {
            Paths(specReplicas: ["spec", "replicas"], statusReplicas: ["status", "replicas"],
                  selector: r.resource == "replicationcontrollers" ? .labels(["spec", "selector"]) : .labelSelector(["spec", "selector"]),
                  customSpecReplicasPath: nil)
        }

        /// A custom resource version's `subresources.scale`: its paths split at dots after the
        /// leading one, as apiextensions-apiserver splits them; no `labelSelectorPath`, no selector.
        init(_ scale: CustomResourceSubresourceScale) {
            let spec = scale.specReplicasPath ?? ".spec.replicas"
            specReplicas = Self.split(spec)
            statusReplicas = Self.split(scale.statusReplicasPath ?? ".status.replicas")
            selector = scale.labelSelectorPath.flatMap { $0.isEmpty ? nil : .string(Self.split($0)) } ?? .none
            customSpecReplicasPath = spec
        }

        init(specReplicas: [String], statusReplicas: [String], selector: Selector, customSpecReplicasPath: String?) {
            self.specReplicas = specReplicas
            self.statusReplicas = statusReplicas
            self.selector = selector
            self.customSpecReplicasPath = customSpecReplicasPath
        }

        static func split(_ path: String) -> [String] {
            (path.hasPrefix(".") ? path.dropFirst() : Substring(path)).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Where a Scale's `status.selector` comes from.
    enum Selector: Sendable, Equatable {
        /// A `LabelSelector`'s `matchLabels`, printed `a=1,b=2`.
        case labelSelector([String])
        /// A map of labels (a ReplicationController's `spec.selector`), printed `a=1,b=2`.
        case labels([String])
        /// A string in label selector form already (a custom resource's `labelSelectorPath`).
        case string([String])
        /// None: the Scale has no selector.
        case none
    }

    /// The paths of `r`: its custom resource version's `subresources.scale` when `served` serves
    /// `r` as a custom resource, the built-in ones otherwise.
    static func paths(_ r: ResourceType, served: ServedResources?) -> Paths {
        guard let custom = served?.customResource(r) else { return .builtIn(r) }
        return Paths(custom.version(r)?.scale ?? CustomResourceSubresourceScale())
    }

    /// Kubernetes' marker for "no spec replicas" in a Scale a patch applies to (the smallest int32).
    static let unsetReplicas = Int64(Int32.min)

    /// The Scale of `obj`. `paths` nil: the built-in ones of `r`. `forPatch`: the Scale a patch will
    /// be applied to, where a custom resource's missing spec replicas reads as `unsetReplicas`
    /// instead of failing, so that `write` refuses a patch that does not set them.
    static func scale(of obj: JSONValue, _ r: ResourceType, paths: Paths? = nil, forPatch: Bool = false) throws -> JSONValue {
        let paths = paths ?? .builtIn(r)
        let replicas: Int64
        if let n = obj[path: paths.specReplicas]?.intValue {
            replicas = n
        } else if let custom = paths.customSpecReplicasPath {
            guard forPatch else { throw APIError.internalError("the spec replicas field \"\(custom)\" does not exist") }
            replicas = unsetReplicas
        } else {
            replicas = 1
        }
        var meta: [String: JSONValue] = [:]
        for k in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] { meta[k] = obj[path: ["metadata", k]] }
        var status: [String: JSONValue] = ["replicas": .int(obj[path: paths.statusReplicas]?.intValue ?? 0)]
        let selector = Self.selector(of: obj, paths.selector)
        if !selector.isEmpty { status["selector"] = .string(selector) }
        return ["kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": .object(meta),
                "spec": ["replicas": .int(replicas)], "status": .object(status)]
    }

    /// `status.selector` of a Scale ("" when there is none).
    static func selector(of obj: JSONValue, _ source: Selector) -> String {
        func printed(_ labels: [String: JSONValue]) -> String {
            labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ",")
        }
        switch source {
        case .labelSelector(let path):
            return obj[path: path]?["matchLabels"]?.objectValue.map(printed) ?? ""
        case .labels(let path):
            return obj[path: path]?.objectValue.map(printed) ?? ""
        case .string(let path):
            return obj[path: path]?.stringValue ?? ""
        case .none:
            return ""
        }
    }

    /// Sets the spec replicas of `name` to `replicas` (a Scale's `spec.replicas`) where `r` keeps
    /// them, with `resourceVersion` (if any) as a precondition. A custom resource's object is then
    /// validated by its strategy (a negative count is refused there, as in apiextensions-apiserver).
    static func write(_ registry: Registry, _ r: ResourceType, _ ns: String?, _ name: String, replicas: JSONValue?,
                      resourceVersion: String?) async throws -> JSONValue {
        let paths = paths(r, served: registry.served)
        guard let replicas, let n = replicas.intValue else {
            throw APIError.invalid(ResourceType("autoscaling", "v1", "Scale", "scale"), name, [.required("spec.replicas")])
        }
        if let custom = paths.customSpecReplicasPath {
            if n == unsetReplicas { throw APIError.badRequest("the spec replicas field \"\(custom)\" cannot be empty") }
        } else if n < 0 {
            throw APIError.invalid(ResourceType("autoscaling", "v1", "Scale", "scale"), name, [.invalid("spec.replicas", String(n), "must be greater than or equal to 0")])
        }
        return try await registry.guaranteedUpdate(r, namespace: ns, name: name) { cur in
            if let resourceVersion, !resourceVersion.isEmpty, resourceVersion != cur.resourceVersion {
                throw APIError.conflict(r, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            var next = cur
            next[path: paths.specReplicas] = .int(n)
            return next
        }
    }
}
