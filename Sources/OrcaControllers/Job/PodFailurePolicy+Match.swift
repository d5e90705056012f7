import Foundation
import OrcaClient

extension PodFailurePolicy {
    /// What the first matching rule says about a failed pod (`matchPodFailurePolicy`).
    struct Verdict: Equatable, Sendable {
        /// The job failure message of a matched `FailJob` rule.
        var failJobMessage: String?
        /// Whether the failure counts toward `backoffLimit` (not when an `Ignore` rule matched).
        var countsFailure: Bool
        /// The action of the matched rule.
        var action: String?
    }

    /// Matches `pod` against the rules in order: `onExitCodes` against terminated containers
    /// (then init containers) with a non-zero exit code, `onPodConditions` against the pod's
    /// conditions. No match counts the failure.
    func verdict(for pod: Pod) -> Verdict {
        let namespace = pod.metadata?.namespace ?? ""
        let name = pod.metadata?.name ?? ""
        for (index, rule) in (rules ?? []).enumerated() {
            let action = rule.action ?? ""
            var failMessage: String?
            if let requirement = rule.onExitCodes {
                guard let status = Self.matchingContainer(pod.status?.containerStatuses, requirement)
                        ?? Self.matchingContainer(pod.status?.initContainerStatuses, requirement) else { continue }
                let code = status.state?.terminated?.exitCode ?? 0
                failMessage = "Container \(status.name ?? "") for pod \(namespace)/\(name) failed with exit code \(code) matching \(action) rule at index \(index)"
            } else if let patterns = rule.onPodConditions {
                guard let condition = (pod.status?.conditions ?? []).first(where: { c in
                    patterns.contains { $0.type == c.type && ($0.status ?? "True") == c.status }
                }) else { continue }
                failMessage = "Pod \(namespace)/\(name) has condition \(condition.type ?? "") matching \(action) rule at index \(index)"
            } else {
                continue
            }
            switch action {
            case "Ignore": return Verdict(failJobMessage: nil, countsFailure: false, action: action)
            case "Count": return Verdict(failJobMessage: nil, countsFailure: true, action: action)
            case "FailJob": return Verdict(failJobMessage: failMessage, countsFailure: true, action: action)
            default: continue
            }
        }
        return Verdict(failJobMessage: nil, countsFailure: true, action: nil)
    }

    /// The first terminated container with a non-zero exit code the requirement matches.
    static func matchingContainer(_ statuses: [ContainerStatus]?, _ requirement: PodFailurePolicyOnExitCodesRequirement) -> ContainerStatus? {
        for status in statuses ?? [] {
            guard let code = status.state?.terminated?.exitCode else { continue }
            if let container = requirement.containerName, container != status.name { continue }
            guard code != 0 else { continue }
            let values = requirement.values ?? []
            switch requirement.`operator` {
            case "In": if values.contains(code) { return status }
            case "NotIn": if !values.contains(code) { return status }
            default: continue
            }
        }
        return nil
    }
}
