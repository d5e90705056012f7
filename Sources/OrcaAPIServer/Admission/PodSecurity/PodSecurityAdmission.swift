import Logging
import OrcaAPI

/// kube-apiserver's PodSecurity admission: the Pod Security Standards (privileged, baseline,
/// restricted) per namespace, chosen by the namespace's `pod-security.kubernetes.io/enforce`,
/// `audit` and `warn` labels (and their `-version`s).
///
/// - Pods are evaluated on create, and on updates that change what the checks can judge
///   (images, seccomp annotations, ephemeral containers). A violation of the `enforce` level
///   is refused with 403; one of `warn` becomes a response warning; one of `audit` is logged
///   (Orca keeps no audit log).
/// - Pod controllers (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs,
///   ReplicationControllers, PodTemplates) get `warn` and `audit` on their pod templates, never
///   `enforce`: their pods are refused when made.
/// - Namespaces must carry valid labels; raising a namespace's `enforce` level warns about the
///   existing pods that would violate it.
///
/// Nothing is exempt (kube-apiserver's default configuration: no exempt users, namespaces or
/// runtime classes, `kube-system` included).
public struct PodSecurityAdmission: AdmissionPlugin {
    public let name = "PodSecurity"
    /// The policy of unlabelled modes (kube-apiserver's `defaults`).
    public let defaults: PodSecurityPolicy
    let evaluator: PodSecurityEvaluator
    let logger: Logger

    /// Pod subresources that cannot change the pod spec.
    static let ignoredPodSubresources: Set<String> = ["exec", "attach", "binding", "eviction", "log", "portforward", "proxy", "status"]
    /// The resources `PodSpecView.extract` reads a pod template from, besides pods.
    static let podControllers: Set<String> = [
        "replicationcontrollers", "podtemplates", "replicasets.apps", "deployments.apps", "statefulsets.apps",
        "daemonsets.apps", "jobs.batch", "cronjobs.batch",
    ]

    public init(defaults: PodSecurityPolicy = .privileged, logger: Logger = Logger(label: "orca.apiserver.podsecurity")) {
        self.defaults = defaults
        self.evaluator = .standard
        self.logger = logger
    }

    public func validate(_ a: AdmissionAttributes, registry: Registry) async throws {
        guard a.operation == .create || a.operation == .update else { return }
        let resource = a.resource.groupResource
        if resource == "namespaces" {
            try await validateNamespace(a, registry: registry)
        } else if resource == "pods" {
            try await validatePod(a, registry: registry)
        } else if Self.podControllers.contains(resource) {
            await validatePodController(a, registry: registry)
        }
    }

    /// `ValidatePod`: enforce, audit and warn.
    func validatePod(_ a: AdmissionAttributes, registry: Registry) async throws {
        if let sub = a.subresource, Self.ignoredPodSubresources.contains(sub) { return }
        guard let namespace = a.namespace, let pod = a.object else { return }
        let labels: [String: String]
        do {
            labels = try await Self.namespaceLabels(namespace, registry: registry)
        } catch {
            logger.error("failed to fetch pod namespace", metadata: ["namespace": "\(namespace)", "error": "\(error)"])
            throw APIError.internalError("failed to lookup namespace \(namespace)")
        }
        let (policy, errors) = PodSecurityPolicy.forLabels(labels, defaults: defaults)
        if errors.isEmpty && policy.isPrivileged { return }
        if a.operation == .update, let old = a.oldObject, !PodSpecView.isSignificantPodUpdate(pod, old: old) { return }
        try evaluate(PodSpecView(metadata: pod["metadata"], spec: pod["spec"]), policy: policy, labelErrors: errors, a, enforce: true)
    }

    /// `ValidatePodController`: audit and warn on the pod template; a namespace that cannot be
    /// read lets the request through.
    func validatePodController(_ a: AdmissionAttributes, registry: Registry) async {
        guard a.subresource == nil, let namespace = a.namespace, let object = a.object else { return }
        let labels: [String: String]
        do {
            labels = try await Self.namespaceLabels(namespace, registry: registry)
        } catch {
            logger.error("failed to fetch pod namespace", metadata: ["namespace": "\(namespace)", "error": "\(error)"])
            return
        }
        let (policy, errors) = PodSecurityPolicy.forLabels(labels, defaults: defaults)
        if errors.isEmpty && policy.warn.level == .privileged && policy.audit.level == .privileged { return }
        guard let template = PodSpecView.extract(from: object, groupResource: a.resource.groupResource) else { return }
        try? evaluate(template, policy: policy, labelErrors: errors, a, enforce: false)
    }

    /// `EvaluatePod`: refuses a violation of `enforce` (when `enforce`), logs one of `audit`,
    /// and warns about one of `warn` unless the request is refused.
    func evaluate(_ pod: PodSpecView, policy: PodSecurityPolicy, labelErrors: [StatusCause], _ a: AdmissionAttributes, enforce: Bool) throws {
        if !labelErrors.isEmpty {
            logger.debug("failed to parse PodSecurity namespace labels",
                         metadata: ["namespace": "\(a.namespace ?? "")", "error": "\(labelErrors.map(\.message).joined(separator: ", "))"])
        }
        var results: [PodSecurityLevelVersion: PodSecurityResult] = [:]
        func result(_ lv: PodSecurityLevelVersion) -> PodSecurityResult {
            if let cached = results[lv] { return cached }
            let r = evaluator.evaluate(lv, pod)
            results[lv] = r
            return r
        }
        var refusal: APIError?
        if enforce {
            let r = result(policy.enforce)
            if !r.allowed {
                refusal = Self.forbidden(a, "violates PodSecurity \(GoQuote.quote(policy.enforce.description)): \(r.forbiddenDetail)")
            }
        }
        let audit = result(policy.audit)
        if !audit.allowed {
            logger.info("would violate PodSecurity \(GoQuote.quote(policy.audit.description)): \(audit.forbiddenDetail)", metadata: [
                "resource": "\(a.resource.groupResource)", "namespace": "\(a.namespace ?? "")", "name": "\(Self.objectName(a))",
                "operation": "\(a.operation.rawValue)", "user": "\(a.user?.name ?? "")",
            ])
        }
        if let refusal { throw refusal }
        let warn = result(policy.warn)
        if !warn.allowed {
            AdmissionWarnings.add("would violate PodSecurity \(GoQuote.quote(policy.warn.description)): \(warn.forbiddenDetail)")
        }
    }

    static func namespaceLabels(_ namespace: String, registry: Registry) async throws -> [String: String] {
        guard let namespaces = registry.catalog.resource(group: "", version: "v1", resource: "namespaces") else { return [:] }
        return try await registry.get(namespaces, namespace: nil, name: namespace).labels
    }

    /// The name a refusal gives: the request's, else the object's.
    static func objectName(_ a: AdmissionAttributes) -> String {
        a.name.isEmpty ? (a.object?.metadataName ?? "") : a.name
    }

    /// `apierrors.NewForbidden`: `pods "x" is forbidden: <why>` (`pods is forbidden: …` with no name).
    static func forbidden(_ a: AdmissionAttributes, _ message: String) -> APIError {
        let name = objectName(a)
        let subject = name.isEmpty ? a.resource.groupResource : "\(a.resource.groupResource) \"\(name)\""
        return APIError(code: 403, reason: "Forbidden", message: "\(subject) is forbidden: \(message)", details: APIError.details(a.resource, name))
    }
}
