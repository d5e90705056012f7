import Foundation
import OrcaClient

extension DisruptionController {
    /// What a budget's pods add up to (`getExpectedPodCount`).
    struct ExpectedPodCount: Sendable, Equatable {
        /// Pods there should be: the selected pods for an integer `minAvailable`, otherwise
        /// the sum of the scales of the selected pods' controllers.
        var expectedPods: Int32 = 0
        /// Pods that must stay healthy.
        var desiredHealthy: Int32 = 0
        /// Selected pods no controller owns (they add nothing to a scale).
        var unmanagedPods: [String] = []
    }

    /// `expectedPods` and `desiredHealthy` of a budget from its `minAvailable` or
    /// `maxUnavailable` (percentages of the expected pods, rounded up).
    func expectedPodCount(_ pdb: PodDisruptionBudget, _ pods: [Pod]) async throws -> ExpectedPodCount {
        var count = ExpectedPodCount()
        let spec = pdb.spec ?? PodDisruptionBudgetSpec()
        if let maxUnavailable = spec.maxUnavailable {
            let scale = try await expectedScale(pods)
            count.expectedPods = scale.expected
            count.unmanagedPods = scale.unmanaged
            let unavailable = try Self.scaled(maxUnavailable, of: count.expectedPods)
            count.desiredHealthy = Int32(clamping: max(Int64(count.expectedPods) - Int64(unavailable), 0))
        } else if let minAvailable = spec.minAvailable {
            switch minAvailable {
            case .int(let value):
                count.desiredHealthy = value
                count.expectedPods = Int32(clamping: pods.count)
            case .string:
                let scale = try await expectedScale(pods)
                count.expectedPods = scale.expected
                count.unmanagedPods = scale.unmanaged
                count.desiredHealthy = try Self.scaled(minAvailable, of: count.expectedPods)
            }
        }
        return count
    }

    /// An int, or a percentage of `total` rounded up (`GetScaledValueFromIntOrPercent`).
    static func scaled(_ value: IntOrString, of total: Int32) throws -> Int32 {
        guard let scaled = value.scaledValue(total: Int(total), roundUp: true) else {
            let text = value.description
            if !text.hasSuffix("%") {
                throw OrcaError(.invalid, "invalid value for IntOrString: invalid type: string is not a percentage")
            }
            throw OrcaError(.invalid, "invalid value \"\(text)\": not an integer percentage")
        }
        return Int32(clamping: scaled)
    }

    /// The sum of the scales of the controllers of `pods`, each counted once
    /// (`getExpectedScale`), and the names of pods without a controller. A pod whose
    /// controller cannot be found is an error.
    func expectedScale(_ pods: [Pod]) async throws -> (expected: Int32, unmanaged: [String]) {
        var scales: [String: Int32] = [:]
        var unmanaged: [String] = []
        for pod in pods {
            guard let ref = pod.metadata?.controllerRef else {
                unmanaged.append(pod.metadata?.name ?? "")
                continue
            }
            if let uid = ref.uid, scales[uid] != nil { continue }
            guard let found = try await controllerScale(ref, namespace: pod.metadata?.namespace ?? "default") else {
                throw OrcaError(.notFound, "found no controllers for pod \"\(pod.metadata?.name ?? "")\"")
            }
            scales[found.uid] = found.replicas
        }
        let total = scales.values.reduce(Int64(0)) { $0 + Int64($1) }
        return (Int32(clamping: total), unmanaged)
    }

    /// The UID and `spec.replicas` of the workload that `ref` points at, through the kube
    /// finders in order: ReplicationController; the Deployment of a ReplicaSet; a ReplicaSet
    /// with no Deployment; StatefulSet. Nil when the controller is not (or no longer) there;
    /// an error when its kind is unknown or has no scale.
    func controllerScale(_ ref: OwnerReference, namespace: String) async throws -> (uid: String, replicas: Int32)? {
        let group = Self.group(of: ref.apiVersion)
        let kind = ref.kind ?? ""
        let name = ref.name ?? ""
        switch kind {
        case "ReplicationController" where group.isEmpty:
            guard let rc = await replicationControllers.get(namespace: namespace, name: name), rc.metadata?.uid == ref.uid else { return nil }
            return (ref.uid ?? "", rc.spec?.replicas ?? 1)
        case "ReplicaSet" where group == "apps" || group == "extensions":
            guard let rs = await replicaSets.get(namespace: namespace, name: name), rs.metadata?.uid == ref.uid else { return nil }
            if let owner = rs.metadata?.controllerRef, owner.kind == "Deployment" {
                let ownerGroup = Self.group(of: owner.apiVersion)
                if ownerGroup == "apps" || ownerGroup == "extensions",
                   let deployment = await deployments.get(namespace: namespace, name: owner.name ?? ""),
                   deployment.metadata?.uid == owner.uid {
                    return (owner.uid ?? "", deployment.spec?.replicas ?? 1)
                }
                // The Deployment is gone: kube falls back to the ReplicaSet's own scale.
            }
            return (ref.uid ?? "", rs.spec?.replicas ?? 1)
        case "StatefulSet" where group == "apps":
            guard let ss = await statefulSets.get(namespace: namespace, name: name), ss.metadata?.uid == ref.uid else { return nil }
            return (ref.uid ?? "", ss.spec?.replicas ?? 1)
        default:
            // kube's last finder reads the `scale` subresource of any other kind.
            guard let resource = client.catalog.resources.first(where: { $0.group == group && $0.kind == kind }) else {
                throw OrcaError(.notFound, "no matches for kind \"\(kind)\" in version \"\(ref.apiVersion ?? "")\"")
            }
            if !resource.subresources.contains("scale") {
                throw OrcaError(.invalid, "\(resource.groupResource) does not implement the scale subresource")
            }
            return nil
        }
    }

    /// The group of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
    static func group(of apiVersion: String?) -> String {
        guard let apiVersion, let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    /// A label selector as Go prints a `*metav1.LabelSelector` with `%v`, for event messages.
    static func goString(_ selector: LabelSelector?) -> String {
        guard let selector else { return "nil" }
        let labels = (selector.matchLabels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)," }.joined()
        let expressions = (selector.matchExpressions ?? []).map { e in
            "LabelSelectorRequirement{Key:\(e.key ?? ""),Operator:\(e.operator ?? ""),Values:[\((e.values ?? []).joined(separator: " "))],},"
        }.joined()
        return "&LabelSelector{MatchLabels:map[string]string{\(labels)},MatchExpressions:[]LabelSelectorRequirement{\(expressions)},}"
    }
}
