import OrcaAPI

/// kube-apiserver's Node authorizer: a node (user `system:node:<name>` in `system:nodes`)
/// may read the Secrets, ConfigMaps, claims and volumes of the pods bound to it, ask tokens
/// only for their ServiceAccounts, hold only its own Lease, and otherwise do what the
/// `system:node` rules allow. Which objects a node may touch is checked on the pods bound to
/// it when asked (kube keeps a graph; the answer is the same).
public struct NodeAuthorizer: Sendable {
    static let rules = BootstrapPolicy.nodeRules

    public init() {}

    /// The node a user is, if it is one.
    public static func nodeName(_ user: UserInfo) -> String? {
        guard user.groups.contains("system:nodes"), user.name.hasPrefix("system:node:") else { return nil }
        let name = String(user.name.dropFirst("system:node:".count))
        return name.isEmpty ? nil : name
    }

    /// Allow, or no opinion with a reason; nil when the user is not a node.
    public func authorize(_ a: AuthorizationAttributes, registry: Registry) async -> AuthorizationDecision? {
        guard let node = Self.nodeName(a.user) else { return nil }
        guard a.isResourceRequest else { return staticRules(a) }
        switch (a.apiGroup, a.resource, a.subresource) {
        case ("", "secrets", ""), ("", "configmaps", ""):
            guard ["get", "list", "watch"].contains(a.verb) else { return .noOpinion(reason: "can only read \(a.resource)") }
            guard !a.name.isEmpty else { return .noOpinion(reason: "can only read namespaced object of this type by name") }
            return await related(registry, node, a) { pod in Self.references(pod, a.resource, a.name) }
        case ("", "persistentvolumeclaims", ""):
            guard a.verb == "get", !a.name.isEmpty else { return .noOpinion(reason: "can only get individual resources of this type") }
            return await related(registry, node, a) { pod in Self.claims(pod).contains(a.name) }
        case ("", "persistentvolumes", ""):
            guard a.verb == "get", !a.name.isEmpty else { return .noOpinion(reason: "can only get individual resources of this type") }
            return await volumeRelated(registry, node, a)
        case ("", "serviceaccounts", "token"):
            guard a.verb == "create", !a.name.isEmpty else { return .noOpinion(reason: "can only create tokens for individual service accounts") }
            return await related(registry, node, a) { pod in (pod[path: ["spec", "serviceAccountName"]]?.stringValue ?? "default") == a.name }
        case ("coordination.k8s.io", "leases", ""):
            guard a.namespace == "kube-node-lease", a.name == node || (a.verb == "create" && a.name.isEmpty) else {
                return .noOpinion(reason: "can only access node lease with the same name as the requesting node")
            }
            return staticRules(a)
        default:
            return staticRules(a)
        }
    }

    func staticRules(_ a: AuthorizationAttributes) -> AuthorizationDecision {
        Self.rules.contains { RBACAuthorizer.rule($0, allows: a) } ? .allow(reason: "") : .noOpinion(reason: "")
    }

    /// Allowed when a pod bound to `node` in the request's namespace passes `uses`.
    func related(_ registry: Registry, _ node: String, _ a: AuthorizationAttributes, uses: (JSONValue) -> Bool) async -> AuthorizationDecision {
        let pods = await podsOn(registry, node, namespace: a.namespace)
        if pods.contains(where: uses) { return .allow(reason: "") }
        return .noOpinion(reason: "no relationship found between node '\(node)' and this object")
    }

    /// A PersistentVolume is the node's when a claim of one of its pods is bound to it.
    func volumeRelated(_ registry: Registry, _ node: String, _ a: AuthorizationAttributes) async -> AuthorizationDecision {
        guard let claims = registry.catalog.resource(group: "", version: "v1", resource: "persistentvolumeclaims") else {
            return .noOpinion(reason: "")
        }
        for pod in await podsOn(registry, node, namespace: "") {
            for claim in Self.claims(pod) {
                let stored = try? await registry.get(claims, namespace: pod.metadataNamespace, name: claim)
                if stored?[path: ["spec", "volumeName"]]?.stringValue == a.name { return .allow(reason: "") }
            }
        }
        return .noOpinion(reason: "no relationship found between node '\(node)' and this object")
    }

    func podsOn(_ registry: Registry, _ node: String, namespace: String) async -> [JSONValue] {
        guard let pods = registry.catalog.resource(group: "", version: "v1", resource: "pods") else { return [] }
        var options = ListOptions()
        options.fieldSelector = FieldMatcher(requirements: [.init(field: "spec.nodeName", equals: true, value: node)])
        let list = try? await registry.list(pods, namespace: namespace.isEmpty ? nil : namespace, options: options)
        return list?["items"]?.arrayValue ?? []
    }

    /// Whether a pod uses Secret or ConfigMap `name`: volumes (also projected), env,
    /// envFrom, and for Secrets image pull secrets.
    static func references(_ pod: JSONValue, _ resource: String, _ name: String) -> Bool {
        let secret = resource == "secrets"
        for volume in pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
            if secret, volume[path: ["secret", "secretName"]]?.stringValue == name { return true }
            if !secret, volume[path: ["configMap", "name"]]?.stringValue == name { return true }
            for source in volume[path: ["projected", "sources"]]?.arrayValue ?? [] {
                if source[path: [secret ? "secret" : "configMap", "name"]]?.stringValue == name { return true }
            }
        }
        if secret, (pod[path: ["spec", "imagePullSecrets"]]?.arrayValue ?? []).contains(where: { $0["name"]?.stringValue == name }) {
            return true
        }
        let containers = ["initContainers", "containers", "ephemeralContainers"].flatMap { pod[path: ["spec", $0]]?.arrayValue ?? [] }
        let ref = secret ? "secretKeyRef" : "configMapKeyRef"
        let fromRef = secret ? "secretRef" : "configMapRef"
        for c in containers {
            if (c["env"]?.arrayValue ?? []).contains(where: { $0[path: ["valueFrom", ref, "name"]]?.stringValue == name }) { return true }
            if (c["envFrom"]?.arrayValue ?? []).contains(where: { $0[path: [fromRef, "name"]]?.stringValue == name }) { return true }
        }
        return false
    }

    /// The PersistentVolumeClaims a pod mounts (ephemeral volumes' claims are `<pod>-<volume>`).
    static func claims(_ pod: JSONValue) -> [String] {
        (pod[path: ["spec", "volumes"]]?.arrayValue ?? []).compactMap { v in
            if let claim = v[path: ["persistentVolumeClaim", "claimName"]]?.stringValue { return claim }
            if v["ephemeral"] != nil, let pod = pod.metadataName, let name = v["name"]?.stringValue { return "\(pod)-\(name)" }
            return nil
        }
    }
}
