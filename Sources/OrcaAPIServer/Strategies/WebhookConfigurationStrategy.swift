import Foundation
import OrcaAPI

/// `admissionregistration.k8s.io/v1` MutatingWebhookConfigurations and
/// ValidatingWebhookConfigurations (Kubernetes' `admissionregistration/v1` defaults and
/// `ValidateMutatingWebhookConfiguration`/`ValidateValidatingWebhookConfiguration`).
///
/// Each webhook defaults to `failurePolicy: Fail`, `matchPolicy: Equivalent`, empty
/// namespace and object selectors, `timeoutSeconds: 10` (and `reinvocationPolicy: Never` when
/// mutating); each rule to `scope: "*"`; a service reference to port 443. `metadata.generation`
/// counts changes of `webhooks`.
struct WebhookConfigurationStrategy: ResourceStrategy {
    /// Mutating (with `reinvocationPolicy`) or validating.
    var mutating: Bool

    static let failurePolicies = ["Fail", "Ignore"]
    static let matchPolicies = ["Equivalent", "Exact"]
    static let reinvocationPolicies = ["IfNeeded", "Never"]
    static let noSideEffectClasses = ["None", "NoneOnDryRun"]
    static let sideEffectClasses = ["None", "NoneOnDryRun", "Some", "Unknown"]

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        defaults(&object)
        object[path: ["metadata", "generation"]] = 1
    }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws {
        defaults(&object)
        let generation = old[path: ["metadata", "generation"]]?.intValue ?? 1
        object[path: ["metadata", "generation"]] = .int(object["webhooks"] == old["webhooks"] ? generation : generation + 1)
    }

    /// `SetDefaults_MutatingWebhook`/`SetDefaults_ValidatingWebhook`, `SetDefaults_Rule` and
    /// `SetDefaults_ServiceReference`.
    func defaults(_ object: inout JSONValue) {
        guard let hooks = object["webhooks"]?.arrayValue else { return }
        object["webhooks"] = .array(hooks.map { hook in
            guard hook.objectValue != nil else { return hook }
            var hook = hook
            WorkloadDefaults.setIfMissing(&hook, ["failurePolicy"], "Fail")
            WorkloadDefaults.setIfMissing(&hook, ["matchPolicy"], "Equivalent")
            WorkloadDefaults.setIfMissing(&hook, ["namespaceSelector"], [:])
            WorkloadDefaults.setIfMissing(&hook, ["objectSelector"], [:])
            WorkloadDefaults.setIfMissing(&hook, ["timeoutSeconds"], 10)
            if mutating { WorkloadDefaults.setIfMissing(&hook, ["reinvocationPolicy"], "Never") }
            if let rules = hook["rules"]?.arrayValue {
                hook["rules"] = .array(rules.map { rule in
                    guard rule.objectValue != nil else { return rule }
                    var rule = rule
                    WorkloadDefaults.setIfMissing(&rule, ["scope"], "*")
                    return rule
                })
            }
            if hook[path: ["clientConfig", "service"]]?.objectValue != nil {
                WorkloadDefaults.setIfMissing(&hook, ["clientConfig", "service", "port"], 443)
            }
            return hook
        })
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        let hooks = object["webhooks"]?.arrayValue ?? []
        let oldHooks = old?["webhooks"]?.arrayValue ?? []
        // An update keeps accepting what the stored object already has (kube's
        // `ValidateMutatingWebhookConfigurationUpdate` options), so old objects stay writable.
        let requireNoSideEffects = old == nil || oldHooks.allSatisfy {
            Self.noSideEffectClasses.contains($0["sideEffects"]?.stringValue ?? "")
        }
        let requireRecognizedVersion = old == nil || oldHooks.allSatisfy { hook in
            let versions = hook["admissionReviewVersions"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return versions.isEmpty || versions.contains { Self.acceptedReviewVersions.contains($0) }
        }
        let oldNames = oldHooks.map { $0["name"]?.stringValue ?? "" }
        let requireUniqueNames = old == nil || Set(oldNames).count == oldNames.count
        var causes: [StatusCause] = []
        var names: Set<String> = []
        for (i, hook) in hooks.enumerated() {
            let path = "webhooks[\(i)]"
            causes += validateWebhook(hook, path: path, requireNoSideEffects: requireNoSideEffects)
            causes += Self.validateReviewVersions(hook["admissionReviewVersions"], path: "\(path).admissionReviewVersions",
                                                  requireRecognized: requireRecognizedVersion)
            let name = hook["name"]?.stringValue ?? ""
            if requireUniqueNames, !name.isEmpty, !names.insert(name).inserted {
                causes.append(.duplicate("\(path).name", name))
            }
        }
        return causes
    }

    /// `validateMutatingWebhook`/`validateValidatingWebhook`: one webhook under `path`.
    func validateWebhook(_ hook: JSONValue, path: String, requireNoSideEffects: Bool) -> [StatusCause] {
        var causes = Self.validateFullyQualifiedName(hook["name"]?.stringValue ?? "", field: "\(path).name")
        for (j, rule) in (hook["rules"]?.arrayValue ?? []).enumerated() {
            causes += Self.validateRule(rule, path: "\(path).rules[\(j)]")
        }
        if let policy = hook["failurePolicy"]?.stringValue, !Self.failurePolicies.contains(policy) {
            causes.append(.notSupported("\(path).failurePolicy", policy, Self.failurePolicies))
        }
        if let policy = hook["matchPolicy"]?.stringValue, !Self.matchPolicies.contains(policy) {
            causes.append(.notSupported("\(path).matchPolicy", policy, Self.matchPolicies))
        }
        let allowedSideEffects = requireNoSideEffects ? Self.noSideEffectClasses : Self.sideEffectClasses
        if let sideEffects = hook["sideEffects"]?.stringValue {
            if !allowedSideEffects.contains(sideEffects) {
                causes.append(.notSupported("\(path).sideEffects", sideEffects, allowedSideEffects))
            }
        } else {
            causes.append(.required("\(path).sideEffects", "Required value: must specify one of \(allowedSideEffects.joined(separator: ", "))"))
        }
        if let timeout = hook["timeoutSeconds"]?.intValue, timeout > 30 || timeout < 1 {
            causes.append(.invalid("\(path).timeoutSeconds", number: timeout, "the timeout value must be between 1 and 30 seconds"))
        }
        causes += WorkloadValidation.validateSelector(hook["namespaceSelector"], path: "\(path).namespaceSelector")
        causes += WorkloadValidation.validateSelector(hook["objectSelector"], path: "\(path).objectSelector")
        if mutating, let policy = hook["reinvocationPolicy"]?.stringValue, !Self.reinvocationPolicies.contains(policy) {
            causes.append(.notSupported("\(path).reinvocationPolicy", policy, Self.reinvocationPolicies))
        }
        causes += Self.validateClientConfig(hook["clientConfig"], path: "\(path).clientConfig")
        causes += Self.validateMatchConditions(hook["matchConditions"], path: "\(path).matchConditions")
        return causes
    }

    /// `IsFullyQualifiedName`: a DNS subdomain of at least three segments (`hook.example.com`).
    static func validateFullyQualifiedName(_ name: String, field: String) -> [StatusCause] {
        if name.isEmpty { return [.required(field)] }
        if !ObjectMetaRules.isDNS1123Subdomain(name) {
            return [.invalid(field, name, name.count > 253 ? "must be no more than 253 characters" : dns1123SubdomainFormat)]
        }
        if name.split(separator: ".", omittingEmptySubsequences: false).count < 3 {
            return [.invalid(field, name, "should be a domain with at least three segments separated by dots")]
        }
        return []
    }

    static let dns1123SubdomainFormat = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
}
