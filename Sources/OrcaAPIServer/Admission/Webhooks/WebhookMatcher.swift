import OrcaAPI

/// Decides whether a webhook is called for a request (kube-apiserver's `ShouldCallHook`): one of
/// its rules matches the operation, group, version, resource/subresource and scope; its
/// `objectSelector` matches the new or the old object's labels; its `namespaceSelector` matches
/// the labels of the request's namespace (of a Namespace itself when one is written; requests
/// for other cluster-scoped objects always match).
///
/// `matchPolicy: Equivalent` also matches the same custom resource under another version the
/// server serves (its objects are converted as the definition says). Built-in resources are
/// served in one version each, and the two Event APIs (`v1` and `events.k8s.io/v1`), which
/// kube treats as equivalent, are matched exactly: Orca has no conversion between them.
struct WebhookMatcher: Sendable {
    /// What a matching webhook is sent: the resource it registered for (the request's own, or an
    /// equivalent version of it).
    struct Invocation: Sendable, Equatable {
        var resource: ResourceType
        var subresource: String?
    }

    let registry: Registry

    /// The invocation of `hook` for `a`, or nil when the webhook does not apply. Throws when a
    /// selector does not parse or the namespace cannot be read (only if a rule matches).
    func invocation(_ hook: AdmissionWebhook, _ a: AdmissionAttributes) async throws -> Invocation? {
        guard let invocation = ruleInvocation(hook, a) else { return nil }
        guard Self.objectSelectorMatches(try hook.objectSelector.get(), a) else { return nil }
        guard try await namespaceSelectorMatches(try hook.namespaceSelector.get(), a) else { return nil }
        return invocation
    }

    /// The first rule matching the request's resource; with `Equivalent`, then the first rule
    /// matching an equivalent one.
    func ruleInvocation(_ hook: AdmissionWebhook, _ a: AdmissionAttributes) -> Invocation? {
        if hook.rules.contains(where: { Self.ruleMatches($0, a, resource: a.resource) }) {
            return Invocation(resource: a.resource, subresource: a.subresource)
        }
        guard hook.matchPolicy == "Equivalent" else { return nil }
        let equivalents = registry.served.customResource(a.resource)?.resourceTypes.filter { $0.version != a.resource.version } ?? []
        for rule in hook.rules {
            if let equivalent = equivalents.first(where: { Self.ruleMatches(rule, a, resource: $0) }) {
                return Invocation(resource: equivalent, subresource: a.subresource)
            }
        }
        return nil
    }

    /// kube's `rules.Matcher`: scope, operation, group, version, then resource/subresource,
    /// each exact or `*` (`pods/*`, `*/status`, `*/*` for subresources).
    static func ruleMatches(_ rule: RuleWithOperations, _ a: AdmissionAttributes, resource r: ResourceType) -> Bool {
        let isNamespace = r.group.isEmpty && r.resource == "namespaces"
        let namespaced = !(a.namespace ?? "").isEmpty
        switch rule.scope ?? "*" {
        case "*": break
        case "Namespaced": if isNamespace || !namespaced { return false }
        case "Cluster": if !isNamespace && namespaced { return false }
        default: return false
        }
        func exactOrWildcard(_ items: [String]?, _ requested: String) -> Bool {
            (items ?? []).contains { $0 == "*" || $0 == requested }
        }
        guard exactOrWildcard(rule.operations, a.operation.rawValue),
              exactOrWildcard(rule.apiGroups, r.group),
              exactOrWildcard(rule.apiVersions, r.version) else { return false }
        let subresource = a.subresource ?? ""
        return (rule.resources ?? []).contains { entry in
            let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let (res, sub) = parts.count == 2 ? (parts[0], parts[1]) : (parts[0], "")
            return (res == "*" || res == r.resource) && (sub == "*" || sub == subresource)
        }
    }

    /// An empty selector matches everything; otherwise the new or the old object's labels must
    /// match (a request without either, such as a DELETE's mutating round, does not).
    static func objectSelectorMatches(_ selector: LabelMatcher, _ a: AdmissionAttributes) -> Bool {
        if selector.isEmpty { return true }
        return [a.object, a.oldObject].contains { object in
            guard let object, object.objectValue != nil else { return false }
            return selector.matches(object.labels)
        }
    }

    /// kube's `namespace.Matcher`: cluster-scoped objects other than Namespaces always match;
    /// a Namespace being created or updated is matched by its own labels, anything else by the
    /// stored namespace's (a missing namespace is a 404).
    func namespaceSelectorMatches(_ selector: LabelMatcher, _ a: AdmissionAttributes) async throws -> Bool {
        let isNamespace = a.resource.group.isEmpty && a.resource.resource == "namespaces"
        let namespace = isNamespace ? a.name : (a.namespace ?? "")
        if namespace.isEmpty && !isNamespace { return true }
        if selector.isEmpty { return true }
        if isNamespace, a.subresource == nil, a.operation == .create || a.operation == .update {
            return selector.matches(a.object?.labels ?? [:])
        }
        guard let namespaces = registry.catalog.resource(group: "", version: "v1", resource: "namespaces") else { return true }
        let stored = try await registry.get(namespaces, namespace: nil, name: namespace)
        return selector.matches(stored.labels)
    }
}
