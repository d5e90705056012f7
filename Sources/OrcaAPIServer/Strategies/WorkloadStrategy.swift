import Foundation
import OrcaAPI

/// What the workload strategies (apps/v1, batch/v1, ReplicationControllers) share: defaults
/// on create and update, status cleared on create (it has its own subresource), and
/// validation of changed specs only.
protocol WorkloadStrategy: ResourceStrategy {
    func applyDefaults(_ object: inout JSONValue, context: StrategyContext)
    func validateSpec(_ object: JSONValue) -> [StatusCause]
    func validateUpdate(_ object: JSONValue, old: JSONValue) -> [StatusCause]
}

extension WorkloadStrategy {
    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        applyDefaults(&object, context: context)
        object["status"] = WorkloadDefaults.emptyStatus(context.resource)
    }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws {
        applyDefaults(&object, context: context)
    }

    /// Writes that leave the spec alone (status, metadata) skip spec validation, so an object
    /// stored under older rules stays writable by its controller.
    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        guard let old else { return validateSpec(object) }
        if ObjectMetaRules.specPart(object) == ObjectMetaRules.specPart(old) { return [] }
        return validateSpec(object) + validateUpdate(object, old: old)
    }

    func validateUpdate(_ object: JSONValue, old: JSONValue) -> [StatusCause] { [] }

    /// `spec.selector` may not change (apps/v1).
    func immutableSelector(_ object: JSONValue, _ old: JSONValue) -> [StatusCause] {
        WorkloadValidation.immutable(object[path: ["spec", "selector"]], old[path: ["spec", "selector"]], "spec.selector", rendered: GoFormat.labelSelector)
    }
}
