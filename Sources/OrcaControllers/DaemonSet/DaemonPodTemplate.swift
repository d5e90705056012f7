import Foundation
import OrcaClient

/// What makes a DaemonSet pod (kube's `pkg/controller/daemon/util`): the template plus the
/// tolerations every daemon pod gets (`AddOrUpdateDaemonPodTolerations`), the
/// `controller-revision-hash` and `pod-template-generation` labels (`CreatePodTemplate`), and
/// the required node affinity that pins it to its node through the scheduler
/// (`ReplaceDaemonSetPodNodeNameNodeAffinity`).
enum DaemonPodTemplate {
    /// `apps/v1.DaemonSetTemplateGenerationKey`.
    static let templateGenerationLabel = "pod-template-generation"
    /// `apps/v1.DeprecatedTemplateGeneration`: the template generation the API server keeps.
    static let templateGenerationAnnotation = "deprecated.daemonset.template.generation"
    /// `metav1.ObjectNameField`.
    static let nameField = "metadata.name"

    /// The tolerations Kubernetes adds to every daemon pod, in its order; hostNetwork pods
    /// also tolerate an unavailable network.
    static func daemonTolerations(hostNetwork: Bool) -> [Toleration] {
        var tolerations = [
            Toleration(effect: "NoExecute", key: "node.kubernetes.io/not-ready", operator: "Exists"),
            Toleration(effect: "NoExecute", key: "node.kubernetes.io/unreachable", operator: "Exists"),
            Toleration(effect: "NoSchedule", key: "node.kubernetes.io/disk-pressure", operator: "Exists"),
            Toleration(effect: "NoSchedule", key: "node.kubernetes.io/memory-pressure", operator: "Exists"),
            Toleration(effect: "NoSchedule", key: "node.kubernetes.io/pid-pressure", operator: "Exists"),
            Toleration(effect: "NoSchedule", key: "node.kubernetes.io/unschedulable", operator: "Exists"),
        ]
        if hostNetwork {
            tolerations.append(Toleration(effect: "NoSchedule", key: "node.kubernetes.io/network-unavailable", operator: "Exists"))
        }
        return tolerations
    }

    /// Adds the daemon tolerations to `spec`, each replacing a toleration with the same key,
    /// effect, operator and value (`AddOrUpdateDaemonPodTolerations`, `AddOrUpdateTolerationInPodSpec`).
    static func addDaemonTolerations(_ spec: inout PodSpec) {
        var tolerations = spec.tolerations ?? []
        for toleration in daemonTolerations(hostNetwork: spec.hostNetwork == true) {
            if let i = tolerations.firstIndex(where: { $0.sameEntry(as: toleration) }) {
                tolerations[i] = toleration
            } else {
                tolerations.append(toleration)
            }
        }
        spec.tolerations = tolerations
    }

    /// The template generation (`GetTemplateGeneration`): the API server's annotation, or the
    /// DaemonSet's generation where no annotation is kept.
    static func templateGeneration(_ ds: DaemonSet) -> Int64? {
        if let text = ds.metadata?.annotations?[templateGenerationAnnotation] { return Int64(text) }
        return ds.metadata?.generation
    }

    /// The template daemon pods are made from (`CreatePodTemplate`): the DaemonSet's template
    /// with the daemon tolerations and the generation and revision-hash labels.
    static func podTemplate(_ ds: DaemonSet, hash: String) -> PodTemplateSpec {
        var template = ds.spec?.template ?? PodTemplateSpec()
        var spec = template.spec ?? PodSpec()
        addDaemonTolerations(&spec)
        template.spec = spec
        var meta = template.metadata ?? ObjectMeta()
        var labels = meta.labels ?? [:]
        if let generation = templateGeneration(ds) { labels[templateGenerationLabel] = String(generation) }
        if !hash.isEmpty { labels[ControllerRevisionHistory.podRevisionLabel] = hash }
        meta.labels = labels
        template.metadata = meta
        return template
    }

    /// `affinity` with its required node selector replaced by the single term
    /// `metadata.name In [node]` (`ReplaceDaemonSetPodNodeNameNodeAffinity`): the node already
    /// satisfied the template's own terms, so the scheduler needs only this one.
    static func replacingNodeNameAffinity(_ affinity: Affinity?, node: String) -> Affinity {
        let term = NodeSelectorTerm(matchFields: [NodeSelectorRequirement(key: nameField, operator: "In", values: [node])])
        var result = affinity ?? Affinity()
        var nodeAffinity = result.nodeAffinity ?? NodeAffinity()
        var required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? NodeSelector()
        required.nodeSelectorTerms = [term]
        nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = required
        result.nodeAffinity = nodeAffinity
        return result
    }

    /// The node a daemon pod is for: its `spec.nodeName`, or, while unscheduled, the value of
    /// its `metadata.name In [node]` affinity term (`GetTargetNodeName`).
    static func targetNodeName(_ pod: Pod) -> String? {
        if let name = pod.spec?.nodeName, !name.isEmpty { return name }
        let terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []
        for term in terms {
            for requirement in term.matchFields ?? [] where requirement.key == nameField && requirement.operator == "In" {
                guard let values = requirement.values, values.count == 1 else { return nil }
                return values[0]
            }
        }
        return nil
    }

    /// The pod is at the DaemonSet's current template: same template generation or same
    /// revision hash (`IsPodUpdated`).
    static func isUpdated(_ pod: Pod, hash: String, generation: Int64?) -> Bool {
        let labels = pod.metadata?.labels ?? [:]
        let generationMatches = generation.map { labels[templateGenerationLabel] == String($0) } ?? false
        let hashMatches = !hash.isEmpty && labels[ControllerRevisionHistory.podRevisionLabel] == hash
        return generationMatches || hashMatches
    }

    /// Whether a daemon pod should run on `node`, and whether one already there may stay
    /// (`NodeShouldRunDaemonPod`): the template's nodeName, nodeSelector and required node
    /// affinity must fit; untolerated NoSchedule/NoExecute taints stop new pods, and only
    /// untolerated NoExecute taints evict running ones.
    static func shouldRun(_ ds: DaemonSet, on node: Node) -> (shouldRun: Bool, shouldContinueRunning: Bool) {
        let nodeName = node.metadata?.name ?? ""
        var spec = ds.spec?.template?.spec ?? PodSpec()
        if let wanted = spec.nodeName, !wanted.isEmpty, wanted != nodeName { return (false, false) }
        spec.nodeName = nodeName
        addDaemonTolerations(&spec)
        let pod = Pod(metadata: ds.spec?.template?.metadata, spec: spec)
        guard NodeAffinityMatcher.requiredNodeAffinityMatches(pod, node: node) else { return (false, false) }
        let taints = node.spec?.taints ?? []
        let tolerations = spec.tolerations ?? []
        if Toleration.firstUntolerated(taints, by: tolerations, where: { $0.effect == "NoSchedule" || $0.effect == "NoExecute" }) != nil {
            let evicting = Toleration.firstUntolerated(taints, by: tolerations, where: { $0.effect == "NoExecute" })
            return (false, evicting == nil)
        }
        return (true, true)
    }
}
