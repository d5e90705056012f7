import Foundation
import OrcaAPI

/// ReplicationControllers: `SetDefaults_ReplicationController` (selector and labels from the
/// template) and `ValidateReplicationController`.
struct ReplicationControllerStrategy: WorkloadStrategy {
    func applyDefaults(_ object: inout JSONValue, context: StrategyContext) { WorkloadDefaults.replicationController(&object) }

    func validateSpec(_ o: JSONValue) -> [StatusCause] {
        let spec = o["spec"]
        var causes = WorkloadValidation.nonNegative(spec?["minReadySeconds"], "spec.minReadySeconds")
        let selector = spec?["selector"]?.objectValue ?? [:]
        if selector.isEmpty { causes.append(.required("spec.selector")) }
        causes += WorkloadValidation.validateLabels(spec?["selector"], path: "spec.selector")
        causes += WorkloadValidation.nonNegative(spec?["replicas"], "spec.replicas")
        guard let template = spec?["template"], template.objectValue != nil else {
            causes.append(.required("spec.template"))
            return causes
        }
        let labels = (template[path: ["metadata", "labels"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        if !selector.isEmpty, !selector.allSatisfy({ labels[$0.key] == $0.value.stringValue }) {
            causes.append(.invalidValue("spec.template.metadata.labels", rendered: GoFormat.stringMap(template[path: ["metadata", "labels"]]),
                                        "selector does not match template labels"))
        }
        causes += WorkloadValidation.validateTemplate(template, path: "spec.template", restartPolicies: ["Always"], kind: "ReplicationController")
        return causes
    }
}

/// PodTemplates: pod spec defaults and validation under `template`.
struct PodTemplateStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws { WorkloadDefaults.podTemplate(&object) }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws { WorkloadDefaults.podTemplate(&object) }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        WorkloadValidation.validateTemplate(object["template"], path: "template", restartPolicies: nil)
    }
}
