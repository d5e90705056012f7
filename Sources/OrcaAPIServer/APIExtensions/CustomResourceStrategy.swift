import OrcaAPI

/// The objects of a custom resource (apiextensions-apiserver's customresource strategy):
/// pruned and defaulted by their version's structural schema, then validated against it;
/// with the status subresource on, status is set only through `/status`.
struct CustomResourceStrategy: ResourceStrategy {
    let custom: CustomResource

    init(_ custom: CustomResource) { self.custom = custom }

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        let version = custom.version(context.resource)
        if version?.status == true { object["status"] = nil }
        Self.normalize(&object, version)
    }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws {
        Self.normalize(&object, custom.version(context.resource))
    }

    /// Unknown fields go and defaults are filled, as when kube-apiserver decodes a custom resource.
    static func normalize(_ object: inout JSONValue, _ version: CustomResource.Version?) {
        guard let schema = version?.schema else { return }
        schema.prune(&object)
        schema.applyDefaults(&object)
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        guard let version = custom.version(apiVersion: object.apiVersion) else { return [] }
        var causes = version.schema?.validate(object) ?? []
        if let scale = version.scale, let path = scale.specReplicasPath.flatMap(CustomResourceJSONPath.init),
           let replicas = path.values(in: object).first, replicas != .null {
            if replicas.intValue == nil {
                causes.append(.invalid(String(scale.specReplicasPath!.dropFirst()), "\(replicas)", "must be an integer"))
            } else if let n = replicas.intValue, n < 0 || n > Int64(Int32.max) {
                causes.append(.invalid(String(scale.specReplicasPath!.dropFirst()), String(n),
                                       "should be a non-negative integer less than or equal to \(Int32.max)"))
            }
        }
        return causes
    }

    /// A deprecated version says so on every response, as kube-apiserver does.
    func warnings(_ object: JSONValue) -> [String] {
        custom.version(apiVersion: object.apiVersion)?.deprecationWarning.map { [$0] } ?? []
    }
}
