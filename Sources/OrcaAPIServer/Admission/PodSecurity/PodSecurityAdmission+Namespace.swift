import OrcaAPI

extension PodSecurityAdmission {
    /// kube-apiserver checks at most this many existing pods when a namespace's enforce level rises.
    static let namespaceMaxPodsToCheck = 3000

    /// `ValidateNamespace`: the Pod Security labels must be valid (on update: unless they were
    /// already invalid the same way); a stricter `enforce` level warns about the namespace's
    /// existing pods that violate it (they keep running).
    func validateNamespace(_ a: AdmissionAttributes, registry: Registry) async throws {
        guard a.subresource == nil, let namespace = a.object else { return }
        let name = namespace.metadataName ?? a.name
        let (policy, errors) = PodSecurityPolicy.forLabels(namespace.labels, defaults: defaults)
        switch a.operation {
        case .create:
            if !errors.isEmpty { throw APIError.invalid(a.resource, name, errors) }
        case .update:
            let (oldPolicy, oldErrors) = PodSecurityPolicy.forLabels(a.oldObject?.labels ?? [:], defaults: defaults)
            if !errors.isEmpty && (oldErrors.isEmpty || errors != oldErrors) { throw APIError.invalid(a.resource, name, errors) }
            // Nothing to check when enforce is unchanged, privileged, or relaxed at the same version.
            if policy.enforce == oldPolicy.enforce || policy.enforce.level == .privileged { return }
            if policy.enforce.version == oldPolicy.enforce.version && policy.enforce.level <= oldPolicy.enforce.level { return }
            for warning in await existingPodWarnings(namespace: name, enforce: policy.enforce, registry: registry) {
                AdmissionWarnings.add(warning)
            }
        case .delete, .connect:
            return
        }
    }

    /// `EvaluatePodsInNamespace`: one warning that existing pods violate `enforce`, then one
    /// per distinct set of reasons, naming the first pod (by name) and how many others share it.
    /// One pod per controller is checked first.
    func existingPodWarnings(namespace: String, enforce: PodSecurityLevelVersion, registry: Registry) async -> [String] {
        guard let pods = registry.catalog.resource(group: "", version: "v1", resource: "pods") else { return [] }
        let items: [JSONValue]
        do {
            items = try await registry.list(pods, namespace: namespace, options: ListOptions())["items"]?.arrayValue ?? []
        } catch {
            logger.error("failed to list pods", metadata: ["namespace": "\(namespace)", "error": "\(error)"])
            return ["failed to list pods while checking new PodSecurity enforce level"]
        }
        let prioritized = Self.prioritize(items)
        let checked = prioritized.prefix(Self.namespaceMaxPodsToCheck)
        var order: [String] = []
        var counts: [String: (name: String, count: Int)] = [:]
        for pod in checked {
            let result = evaluator.evaluate(enforce, PodSpecView(metadata: pod["metadata"], spec: pod["spec"]))
            guard !result.allowed else { continue }
            let reason = result.forbiddenReason, podName = pod.metadataName ?? ""
            if var seen = counts[reason] {
                seen.count += 1
                if podName < seen.name { seen.name = podName }
                counts[reason] = seen
            } else {
                order.append(reason)
                counts[reason] = (podName, 1)
            }
        }
        var warnings: [String] = []
        if checked.count < prioritized.count {
            warnings.append("new PodSecurity enforce level only checked against the first \(checked.count) of \(prioritized.count) existing pods")
        }
        if !order.isEmpty {
            warnings.append("existing pods in namespace \(GoQuote.quote(namespace)) violate the new PodSecurity enforce level \(GoQuote.quote(enforce.description))")
        }
        let perPod = order.map { reason -> String in
            let (name, count) = counts[reason]!
            switch count {
            case 1: return "\(name): \(reason)"
            case 2: return "\(name) (and 1 other pod): \(reason)"
            default: return "\(name) (and \(count - 1) other pods): \(reason)"
            }
        }
        return warnings + perPod.sorted()
    }

    /// `prioritizePods`: pods without a controller and the first pod of each controller, then
    /// the other pods of controllers already seen.
    static func prioritize(_ pods: [JSONValue]) -> [JSONValue] {
        var first: [JSONValue] = [], duplicates: [JSONValue] = []
        var controllers = Set<String>()
        for pod in pods {
            let owner = (pod[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).first { $0["controller"]?.boolValue == true }
            guard let uid = owner?["uid"]?.stringValue else {
                first.append(pod)
                continue
            }
            if controllers.insert(uid).inserted { first.append(pod) } else { duplicates.append(pod) }
        }
        return first + duplicates
    }
}
