import OrcaAPI

/// One webhook of a MutatingWebhookConfiguration or ValidatingWebhookConfiguration, with
/// kube's defaults filled in and its selectors parsed: what the API server calls
/// (kube-apiserver's `webhook.WebhookAccessor`).
public struct AdmissionWebhook: Sendable {
    /// Which configuration kind it comes from.
    public enum Kind: Sendable, Hashable { case mutating, validating }

    public var kind: Kind
    /// The name of its configuration (webhooks run ordered by it, then by position).
    public var configurationName: String
    /// The webhook's own name (`pod-policy.example.com`), as error messages name it.
    public var name: String
    public var clientConfig: AdmissionregistrationV1WebhookClientConfig
    public var rules: [RuleWithOperations]
    /// `Fail` or `Ignore`: whether a failed call refuses the request.
    public var failurePolicy: String
    /// `Equivalent` or `Exact`.
    public var matchPolicy: String
    /// Parsed `namespaceSelector` (empty: every namespace).
    public var namespaceSelector: Result<LabelMatcher, APIError>
    /// Parsed `objectSelector` (empty: every object).
    public var objectSelector: Result<LabelMatcher, APIError>
    /// `None`, `NoneOnDryRun`, `Some` or `Unknown` (nil only for objects stored unvalidated).
    public var sideEffects: String?
    /// The hard deadline of one call.
    public var timeoutSeconds: Int
    /// The AdmissionReview versions the webhook accepts, in its order of preference.
    public var admissionReviewVersions: [String]
    /// `Never` or `IfNeeded` (mutating webhooks only).
    public var reinvocationPolicy: String
    /// CEL conditions; Orca does not evaluate them and calls the webhook as if they held.
    public var matchConditions: [MatchCondition]

    /// A mutating webhook of configuration `configurationName`.
    public init(_ hook: MutatingWebhook, configurationName: String) {
        self.init(kind: .mutating, configurationName: configurationName, name: hook.name ?? "",
                  clientConfig: hook.clientConfig, rules: hook.rules, failurePolicy: hook.failurePolicy,
                  matchPolicy: hook.matchPolicy, namespaceSelector: hook.namespaceSelector, objectSelector: hook.objectSelector,
                  sideEffects: hook.sideEffects, timeoutSeconds: hook.timeoutSeconds,
                  admissionReviewVersions: hook.admissionReviewVersions, matchConditions: hook.matchConditions)
        reinvocationPolicy = hook.reinvocationPolicy ?? "Never"
    }

    /// A validating webhook of configuration `configurationName`.
    public init(_ hook: ValidatingWebhook, configurationName: String) {
        self.init(kind: .validating, configurationName: configurationName, name: hook.name ?? "",
                  clientConfig: hook.clientConfig, rules: hook.rules, failurePolicy: hook.failurePolicy,
                  matchPolicy: hook.matchPolicy, namespaceSelector: hook.namespaceSelector, objectSelector: hook.objectSelector,
                  sideEffects: hook.sideEffects, timeoutSeconds: hook.timeoutSeconds,
                  admissionReviewVersions: hook.admissionReviewVersions, matchConditions: hook.matchConditions)
    }

    private init(kind: Kind, configurationName: String, name: String, clientConfig: AdmissionregistrationV1WebhookClientConfig?,
                 rules: [RuleWithOperations]?, failurePolicy: String?, matchPolicy: String?,
                 namespaceSelector: LabelSelector?, objectSelector: LabelSelector?, sideEffects: String?,
                 timeoutSeconds: Int32?, admissionReviewVersions: [String]?, matchConditions: [MatchCondition]?) {
        self.kind = kind
        self.configurationName = configurationName
        self.name = name
        self.clientConfig = clientConfig ?? AdmissionregistrationV1WebhookClientConfig()
        self.rules = (rules ?? []).map { rule in
            var rule = rule
            if rule.scope == nil { rule.scope = "*" }
            return rule
        }
        self.failurePolicy = failurePolicy ?? "Fail"
        self.matchPolicy = matchPolicy ?? "Equivalent"
        self.namespaceSelector = Self.matcher(namespaceSelector)
        self.objectSelector = Self.matcher(objectSelector)
        self.sideEffects = sideEffects
        self.timeoutSeconds = Int(timeoutSeconds ?? 10)
        self.admissionReviewVersions = admissionReviewVersions ?? []
        self.reinvocationPolicy = "Never"
        self.matchConditions = matchConditions ?? []
    }

    /// A selector as a matcher; one that does not parse fails every request it would decide
    /// (kube's `GetParsedNamespaceSelector` error becomes a 500).
    static func matcher(_ selector: LabelSelector?) -> Result<LabelMatcher, APIError> {
        guard let selector else { return .success(.everything) }
        do { return .success(try LabelMatcher(selector)) } catch {
            return .failure(.internalError("\(error)"))
        }
    }

    /// Whether a failed call (unreachable, timed out, garbage answer) lets the request through.
    public var ignoresFailures: Bool { failurePolicy == "Ignore" }

    /// Whether the webhook may be called for a dry-run request (`sideEffects` None or NoneOnDryRun).
    public var supportsDryRun: Bool { sideEffects == "None" || sideEffects == "NoneOnDryRun" }
}
