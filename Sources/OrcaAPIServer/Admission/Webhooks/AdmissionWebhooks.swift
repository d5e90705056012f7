import Foundation
import Logging
import OrcaAPI
import Synchronization

/// kube-apiserver's MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins: every
/// write is sent to the webhooks of the MutatingWebhookConfigurations and
/// ValidatingWebhookConfigurations that match it (`WebhookMatcher`). Put it last in the chain:
/// kube runs webhooks after the built-in plugins of each phase.
///
/// - `admit` calls matching mutating webhooks one after another (configurations by name, then
///   webhook order) and applies their JSON patches; a webhook with `reinvocationPolicy: IfNeeded`
///   is called once more when a later webhook changed the object.
/// - `validate` calls matching validating webhooks concurrently; the first refusal (in webhook
///   order) is returned. The registry asks no `admit` for deletions, so mutating webhooks that
///   match a DELETE are called here, before the validating ones (they may refuse it, not patch it).
/// - A refusal is the webhook's status (403 by default): `admission webhook "<name>" denied the
///   request: <message>`. A failed call is a 500 (`failed calling webhook "<name>": …`) with
///   `failurePolicy: Fail`, and is skipped (and logged) with `Ignore`.
/// - A dry run may only call webhooks whose `sideEffects` is None or NoneOnDryRun (else 400).
/// - The webhook configurations themselves are never sent to webhooks (a broken webhook could
///   otherwise lock its own fix out). The API server's own writes go through webhooks too.
public struct AdmissionWebhooks: AdmissionPlugin {
    public let name = "MutatingAdmissionWebhook,ValidatingAdmissionWebhook"
    let store: WebhookConfigurationStore
    let client: WebhookClient
    let newUID: @Sendable () -> String
    let readyTimeout: Duration
    let logger: Logger
    private let noted = NotedWebhooks()

    /// `readyTimeout`: how long a user's request waits for the store's first snapshot before it
    /// is refused (kube's `WaitForReady`, 10 s). The server's own writes never wait.
    public init(store: WebhookConfigurationStore, client: WebhookClient = WebhookClient(),
                newUID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() },
                readyTimeout: Duration = .seconds(10), logger: Logger = Logger(label: "orca.apiserver.admission-webhooks")) {
        self.store = store
        self.client = client
        self.newUID = newUID
        self.readyTimeout = readyTimeout
        self.logger = logger
    }

    /// The kinds never sent to webhooks (`IsExemptAdmissionConfigurationResource`).
    static let exemptResources: Set<String> = [
        "validatingwebhookconfigurations", "mutatingwebhookconfigurations", "validatingadmissionpolicies",
        "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
    ]

    static func isExempt(_ a: AdmissionAttributes) -> Bool {
        a.resource.group == "admissionregistration.k8s.io" && exemptResources.contains(a.resource.resource)
    }

    public func admit(_ a: inout AdmissionAttributes, registry: Registry) async throws {
        guard !Self.isExempt(a) else { return }
        let hooks = try await webhooks(for: a).mutating
        guard !hooks.isEmpty else { return }
        try await runMutating(hooks, &a, registry: registry)
    }

    public func validate(_ a: AdmissionAttributes, registry: Registry) async throws {
        guard !Self.isExempt(a) else { return }
        let snapshot = try await webhooks(for: a)
        if a.operation == .delete || a.operation == .connect, !snapshot.mutating.isEmpty {
            // kube's mutating round of a DELETE carries neither object.
            var deletion = a
            deletion.object = nil
            deletion.oldObject = nil
            try await runMutating(snapshot.mutating, &deletion, registry: registry)
        }
        guard !snapshot.validating.isEmpty else { return }
        let matcher = WebhookMatcher(registry: registry)
        var calls: [(AdmissionWebhook, WebhookMatcher.Invocation)] = []
        for hook in snapshot.validating {
            if let invocation = try await matcher.invocation(hook, a) { calls.append((hook, invocation)) }
        }
        let failures = try await withThrowingTaskGroup(of: (Int, APIError?).self) { group in
            for (i, (hook, invocation)) in calls.enumerated() {
                group.addTask {
                    do {
                        try await callValidating(hook, invocation, a, registry: registry)
                        return (i, nil)
                    } catch let e as APIError {
                        return (i, e)
                    }
                }
            }
            var failures: [Int: APIError] = [:]
            for try await (i, e) in group { failures[i] = e }
            return failures
        }
        if let first = failures.keys.min() { throw failures[first]! }
    }

    /// The snapshot to call, once the store has one. A user's request waits for the first sync
    /// up to `readyTimeout`, then is refused; the server's own writes go on without webhooks.
    func webhooks(for a: AdmissionAttributes) async throws -> WebhookConfigurationStore.Snapshot {
        if store.hasSynced || a.user == nil { return store.snapshot }
        let step = Duration.milliseconds(100)
        for _ in 0..<max(1, Int((readyTimeout / step).rounded(.up))) where !store.hasSynced {
            try await Task.sleep(for: step)
        }
        guard store.hasSynced else { throw a.forbidden("not yet ready to handle request") }
        return store.snapshot
    }

    /// Calls the matching mutating webhooks in order, then once more those with
    /// `reinvocationPolicy: IfNeeded` that ran before a later webhook changed the object.
    func runMutating(_ hooks: [AdmissionWebhook], _ a: inout AdmissionAttributes, registry: Registry) async throws {
        let matcher = WebhookMatcher(registry: registry)
        var invokedReinvocable: Set<Int> = []
        var reinvoke: Set<Int> = []
        for (i, hook) in hooks.enumerated() {
            guard let invocation = try await matcher.invocation(hook, a) else { continue }
            if try await callMutating(hook, invocation, &a, registry: registry) {
                reinvoke.formUnion(invokedReinvocable)
                invokedReinvocable = []
            }
            if hook.reinvocationPolicy == "IfNeeded" { invokedReinvocable.insert(i) }
        }
        // Webhooks that were not called in the first round are not called for the first time now.
        for (i, hook) in hooks.enumerated() where reinvoke.contains(i) {
            guard let invocation = try await matcher.invocation(hook, a) else { continue }
            _ = try await callMutating(hook, invocation, &a, registry: registry)
        }
    }

    /// One mutating call; applies its patch. Returns whether the object changed.
    func callMutating(_ hook: AdmissionWebhook, _ invocation: WebhookMatcher.Invocation, _ a: inout AdmissionAttributes,
                      registry: Registry) async throws -> Bool {
        guard let response = try await call(hook, invocation, a, registry: registry) else { return false }
        guard let patch = response.patch, !(patch.arrayValue ?? []).isEmpty else { return false }
        guard let object = a.object else {
            throw APIError.internalError("admission webhook \(GoFormat.quote(hook.name)) attempted to modify the object, which is not supported for this operation")
        }
        var patched: JSONValue
        let sent = try await registry.served(object, as: invocation.resource)
        do { patched = try JSONPatch.apply(patch, to: sent) } catch {
            throw APIError.internalError("\(error)")
        }
        guard patched.objectValue != nil else {
            throw APIError.internalError("admission webhook \(GoFormat.quote(hook.name)) patched the object into something that is not an object")
        }
        patched = try await registry.served(patched, as: a.resource)
        guard patched != object else { return false }
        a.object = patched
        return true
    }

    /// One validating call: returns if it allowed the request, throws its refusal otherwise.
    func callValidating(_ hook: AdmissionWebhook, _ invocation: WebhookMatcher.Invocation, _ a: AdmissionAttributes,
                        registry: Registry) async throws {
        _ = try await call(hook, invocation, a, registry: registry)
    }

    /// Calls `hook` and hands back its answer if it allowed the request; nil when the call failed
    /// and the webhook ignores failures. Refusals, dry-run conflicts and failed calls of a `Fail`
    /// webhook are thrown as the API errors kube returns.
    func call(_ hook: AdmissionWebhook, _ invocation: WebhookMatcher.Invocation, _ a: AdmissionAttributes,
              registry: Registry) async throws -> AdmissionReview.Response? {
        if a.dryRun {
            guard hook.sideEffects != nil else {
                return try failed(hook, WebhookClient.CallError("Webhook SideEffects is nil"))
            }
            guard hook.supportsDryRun else {
                throw APIError.badRequest("admission webhook \(GoFormat.quote(hook.name)) does not support dry run")
            }
        }
        if !hook.matchConditions.isEmpty, noted.first(hook) {
            let names = hook.matchConditions.map { $0.name ?? "" }.joined(separator: ", ")
            logger.warning("webhook \(hook.name) of \(hook.configurationName) has matchConditions (\(names)); Orca does not evaluate CEL and calls it as if they held")
        }
        guard let version = AdmissionReview.version(for: hook) else {
            return try failed(hook, WebhookClient.CallError("could not create admission objects: webhook does not accept known AdmissionReview versions (v1, v1beta1)"))
        }
        let uid = newUID()
        // An equivalent version of a custom resource gets the objects converted to it.
        var converted = a
        if invocation.resource != a.resource {
            if let object = a.object { converted.object = try await registry.served(object, as: invocation.resource) }
            if let old = a.oldObject { converted.oldObject = try await registry.served(old, as: invocation.resource) }
        }
        let request = AdmissionReview.request(uid: uid, version: version, invocation: invocation, attributes: converted)
        let response: AdmissionReview.Response
        do {
            response = try await client.review(request, uid: uid, version: version, hook: hook, registry: registry)
        } catch {
            return try failed(hook, error)
        }
        for warning in response.warnings { AdmissionWarnings.add(warning) }
        guard response.allowed else { throw Self.denied(hook, response.status, a) }
        return response
    }

    /// A failed call: skipped with `failurePolicy: Ignore`, else a 500.
    func failed(_ hook: AdmissionWebhook, _ error: WebhookClient.CallError) throws -> AdmissionReview.Response? {
        let message = "failed calling webhook \(GoFormat.quote(hook.name)): \(error.reason)"
        if hook.ignoresFailures {
            logger.warning("Failed calling webhook, failing open \(hook.name): \(message)")
            return nil
        }
        logger.warning("Failed calling webhook, failing closed \(hook.name): \(message)")
        throw APIError.internalError(message)
    }

    /// A webhook's refusal (kube's `ToStatusErr`): its status code (403 when it gave none), its
    /// reason, and `admission webhook "<name>" denied the request: <message or reason>`.
    static func denied(_ hook: AdmissionWebhook, _ status: JSONValue?, _ a: AdmissionAttributes) -> APIError {
        let deniedBy = "admission webhook \(GoFormat.quote(hook.name)) denied the request"
        let message = status?["message"]?.stringValue ?? ""
        let reason = status?["reason"]?.stringValue ?? ""
        let text = !message.isEmpty ? "\(deniedBy): \(message)" : !reason.isEmpty ? "\(deniedBy): \(reason)" : "\(deniedBy) without explanation"
        let code = Int(status?["code"]?.intValue ?? 0)
        let effective = code == 0 ? 403 : code
        let name = a.name.isEmpty ? (a.object?.metadataName ?? "") : a.name
        var details = status?["details"].flatMap { $0.objectValue != nil ? $0 : nil }
        if details == nil, effective != 500 { details = APIError.details(a.resource, name.isEmpty ? "Unknown" : name) }
        let defaultReason = effective == 500 ? "InternalError" : "Forbidden"
        return APIError(code: effective, reason: reason.isEmpty ? defaultReason : reason, message: text, details: details)
    }
}

/// The webhooks whose unevaluated `matchConditions` were logged already (once each).
private final class NotedWebhooks: Sendable {
    private let names = Mutex<Set<String>>([])

    /// True the first time `hook` is seen.
    func first(_ hook: AdmissionWebhook) -> Bool {
        names.withLock { $0.insert("\(hook.configurationName)/\(hook.name)").inserted }
    }
}
