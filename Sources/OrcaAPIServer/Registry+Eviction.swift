import Foundation
import OrcaAPI

extension Registry {
    /// The most approved evictions a budget may hold in `status.disruptedPods` before the
    /// disruption controller has seen them (`MaxDisruptedPodSize`).
    static let maxDisruptedPods = 2000
    /// How many times a write that lost a race is tried again (`EvictionsRetry.Steps`).
    static let evictionRetries = 20

    /// Evicts a pod (`POST pods/<name>/eviction`, Kubernetes' `EvictionREST.Create`): deletes it
    /// with the eviction's `deleteOptions` if its PodDisruptionBudget allows, and answers the
    /// `Status` to send with 201.
    ///
    /// - A pod that is Pending, Succeeded, Failed or already being deleted is deleted at once.
    /// - More than one budget selecting the pod is a 500; none, a plain delete.
    /// - A pod that is not Ready is deleted without spending the budget when the budget's
    ///   `unhealthyPodEvictionPolicy` is `AlwaysAllow`, or (`IfHealthyBudget`, the default)
    ///   while the budget is met.
    /// - Otherwise the budget must have been processed for its generation and allow a
    ///   disruption (429 `TooManyRequests` if not); one compare-and-swap write lowers
    ///   `status.disruptionsAllowed` and records the pod in `status.disruptedPods`.
    ///
    /// The pod gets `DisruptionTarget=True` (`EvictionByEvictionAPI`) just before its deletion.
    public func evict(_ pods: ResourceType, namespace: String, name: String, eviction: JSONValue,
                      dryRun: Bool = false) async throws -> JSONValue {
        try Self.checkEviction(eviction, name: name, namespace: namespace)
        var original = DeletionOptions(body: eviction["deleteOptions"], query: [:])
        if dryRun { original.dryRun = true }
        let userResourceVersion = original.preconditionResourceVersion != nil

        // A pod that is not running has disrupted nothing that a budget protects.
        var pod: JSONValue = .null
        var attempts = 0
        while true {
            guard let (current, _) = try await read(pods, namespace: namespace, name: name) else { throw APIError.notFound(pods, name) }
            pod = current
            guard Self.canIgnoreBudgets(pod) else { break }
            var options = original
            if Self.shouldEnforceResourceVersion(pod), !userResourceVersion {
                options.preconditionResourceVersion = pod.resourceVersion
            }
            do {
                try await markDisruptedAndDelete(pods, namespace: namespace, name: name, options: options)
                return Self.evictionSucceeded
            } catch let e as APIError where Self.isConflict(e) && !userResourceVersion && attempts < Self.evictionRetries {
                attempts += 1
            }
        }

        let budgets = try await budgetsSelecting(pod, namespace: namespace)
        if budgets.count > 1 {
            throw APIError(code: 500, reason: "",
                           message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")
        }
        var options = original
        if let budget = budgets.first, let pdbs = disruptionBudgetResource {
            let budgetName = budget.metadataName ?? ""
            if !Self.isReady(pod), Self.allowsUnhealthyEviction(budget) {
                // Delete only the pod as it was judged: one that became Ready since must be re-judged.
                options.preconditionResourceVersion = pod.resourceVersion
                do {
                    try await markDisruptedAndDelete(pods, namespace: namespace, name: name, options: options)
                } catch let e as APIError where Self.isConflict(e) && !userResourceVersion {
                    throw Self.budgetStillProcessing(budgetName)
                }
                return Self.evictionSucceeded
            }
            try await checkAndDecrement(pdbs, namespace: namespace, budget: budgetName, pod: name, dryRun: options.dryRun)
        }
        try await markDisruptedAndDelete(pods, namespace: namespace, name: name, options: options)
        return Self.evictionSucceeded
    }

    /// What an eviction answers with `201 Created`.
    static let evictionSucceeded: JSONValue = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": 201]

    var disruptionBudgetResource: ResourceType? {
        catalog.resource(group: "policy", version: "v1", resource: "poddisruptionbudgets")
    }

    /// 400 unless the body is a policy/v1 (or v1beta1) Eviction of the pod in the URL.
    static func checkEviction(_ body: JSONValue, name: String, namespace: String) throws {
        guard body.objectValue != nil else { throw APIError.badRequest("the body of the request must be an object") }
        if let v = body.apiVersion, !v.isEmpty, v != "policy/v1", v != "policy/v1beta1" {
            throw APIError.badRequest("the API version in the data (\(v)) does not match the expected API version (policy/v1)")
        }
        if let k = body.kind, !k.isEmpty, k != "Eviction" {
            throw APIError.badRequest("the kind in the data (\(k)) does not match the expected kind (Eviction)")
        }
        if let ns = body.metadataNamespace, !ns.isEmpty, ns != namespace {
            throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        if (body.metadataName ?? "") != name {
            throw APIError.badRequest("name in URL does not match name in Eviction object")
        }
    }

    /// The budgets of the namespace whose selector picks the pod (`getPodDisruptionBudgets`):
    /// a missing or invalid selector picks nothing, an empty one every pod.
    func budgetsSelecting(_ pod: JSONValue, namespace: String) async throws -> [JSONValue] {
        guard let pdbs = disruptionBudgetResource else { return [] }
        let list = try await self.list(pdbs, namespace: namespace, options: ListOptions())
        let labels = pod.labels
        return (list["items"]?.arrayValue ?? []).filter { budget in
            guard let selector = budget[path: ["spec", "selector"]], selector.objectValue != nil,
                  let matcher = try? LabelMatcher(object: selector) else { return false }
            return matcher.matches(labels)
        }
    }

    /// Verifies that `budget` allows one more disruption and spends it in one compare-and-swap
    /// write of its status, re-reading it after a lost race (`checkAndDecrement`).
    func checkAndDecrement(_ pdbs: ResourceType, namespace: String, budget name: String, pod: String, dryRun: Bool) async throws {
        for _ in 0..<Self.evictionRetries {
            guard let (budget, revision) = try await read(pdbs, namespace: namespace, name: name) else { throw APIError.notFound(pdbs, name) }
            let status = budget["status"] ?? [:]
            let generation = budget[path: ["metadata", "generation"]]?.intValue ?? 0
            if (status["observedGeneration"]?.intValue ?? 0) < generation { throw Self.budgetStillProcessing(name) }
            let allowed = status["disruptionsAllowed"]?.intValue ?? 0
            if allowed < 0 { throw Self.budgetForbidden(name, "pdb disruptions allowed is negative") }
            var disrupted = status["disruptedPods"]?.objectValue ?? [:]
            if disrupted.count > Self.maxDisruptedPods {
                throw Self.budgetForbidden(name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller")
            }
            if allowed == 0 {
                let desired = status["desiredHealthy"]?.intValue ?? 0
                let current = status["currentHealthy"]?.intValue ?? 0
                throw Self.tooManyRequests("The disruption budget \(name) needs \(desired) healthy pods and has \(current) currently", retryAfter: 0)
            }
            if dryRun { return }
            let now = clock()
            var next = budget
            next[path: ["status", "disruptionsAllowed"]] = .int(allowed - 1)
            if allowed - 1 == 0 {
                next[path: ["status", "conditions"]] = .array(Self.insufficientPods(status, now: now))
            }
            disrupted[pod] = .string(KubernetesTime.string(now))
            next[path: ["status", "disruptedPods"]] = .object(disrupted)
            let written = next
            do {
                _ = try await write(pdbs, name: name, old: budget, revision: revision, dryRun: false) { _ in written }
                return
            } catch let e as APIError where Self.isConflict(e) {
                continue
            }
        }
        var timeout = APIError(code: 504, reason: "Timeout", message: "Timeout: couldn't update PodDisruptionBudget \"\(name)\" due to conflicts",
                               details: ["retryAfterSeconds": 10])
        timeout.retryAfterSeconds = 10
        throw timeout
    }

    /// Sets `DisruptionTarget=True` on the pod, then deletes it with `options`
    /// (`addConditionAndDeletePod`); a resourceVersion precondition is checked against the
    /// pod before the condition is written and moved to the written version after.
    func markDisruptedAndDelete(_ pods: ResourceType, namespace: String, name: String, options: DeletionOptions) async throws {
        var options = options
        if !options.dryRun {
            guard let (current, revision) = try await read(pods, namespace: namespace, name: name) else { throw APIError.notFound(pods, name) }
            if let uid = options.preconditionUID, !uid.isEmpty, uid != current.metadataUID {
                throw Self.podConflict(name, "the UID in the precondition (\(uid)) does not match the UID in record (\(current.metadataUID ?? "")). The object might have been deleted and then recreated")
            }
            if let rv = options.preconditionResourceVersion, !rv.isEmpty, rv != current.resourceVersion {
                throw Self.podConflict(name, "the ResourceVersion in the precondition (\(rv)) does not match the ResourceVersion in record (\(current.resourceVersion ?? "")). The object might have been modified")
            }
            let now = KubernetesTime.string(clock())
            let updated = try await write(pods, name: name, old: current, revision: revision, dryRun: false) { cur in
                var next = cur
                next[path: ["status", "conditions"]] = .array(Self.withDisruptionTarget(cur[path: ["status", "conditions"]]?.arrayValue ?? [], now: now))
                return next
            }
            if options.preconditionResourceVersion != nil { options.preconditionResourceVersion = updated.resourceVersion }
        }
        _ = try await delete(pods, namespace: namespace, name: name, options: options)
    }

    // MARK: pod and budget facts

    /// Pending, Succeeded, Failed or being deleted (`canIgnorePDB`).
    static func canIgnoreBudgets(_ pod: JSONValue) -> Bool {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        return phase == "Pending" || phase == "Succeeded" || phase == "Failed" || pod.deletionTimestamp != nil
    }

    /// Whether a direct delete must be pinned to the version judged (`shouldEnforceResourceVersion`).
    static func shouldEnforceResourceVersion(_ pod: JSONValue) -> Bool {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        return !(phase == "Succeeded" || phase == "Failed" || pod.deletionTimestamp != nil)
    }

    /// The `Ready` condition is True.
    static func isReady(_ pod: JSONValue) -> Bool {
        (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    /// Whether a pod that is not Ready may go without spending the budget: always under
    /// `AlwaysAllow`; under `IfHealthyBudget` while the budget is met.
    static func allowsUnhealthyEviction(_ budget: JSONValue) -> Bool {
        if budget[path: ["spec", "unhealthyPodEvictionPolicy"]]?.stringValue == "AlwaysAllow" { return true }
        let current = budget[path: ["status", "currentHealthy"]]?.intValue ?? 0
        let desired = budget[path: ["status", "desiredHealthy"]]?.intValue ?? 0
        return current >= desired && desired > 0
    }

    /// The budget's conditions with `DisruptionAllowed=False/InsufficientPods`
    /// (`UpdateDisruptionAllowedCondition` once no disruption is left).
    static func insufficientPods(_ status: JSONValue, now: Date) -> [JSONValue] {
        var conditions = status["conditions"]?.arrayValue ?? []
        let observed = status["observedGeneration"] ?? .int(0)
        if let i = conditions.firstIndex(where: { $0["type"]?.stringValue == "DisruptionAllowed" }) {
            var c = conditions[i]
            if c["status"]?.stringValue != "False" {
                c["status"] = "False"
                c["lastTransitionTime"] = .string(KubernetesTime.string(now))
            }
            c["reason"] = "InsufficientPods"
            c["message"] = ""
            c["observedGeneration"] = observed
            conditions[i] = c
        } else {
            conditions.append(["type": "DisruptionAllowed", "status": "False", "reason": "InsufficientPods", "message": "",
                               "observedGeneration": observed, "lastTransitionTime": .string(KubernetesTime.string(now))])
        }
        return conditions
    }

    /// Pod conditions with `DisruptionTarget=True/EvictionByEvictionAPI` (`UpdatePodCondition`:
    /// the transition time moves only when the status changes).
    static func withDisruptionTarget(_ conditions: [JSONValue], now: String) -> [JSONValue] {
        var out = conditions
        var target: JSONValue = ["type": "DisruptionTarget", "status": "True", "lastProbeTime": .null,
                                 "lastTransitionTime": .string(now), "reason": "EvictionByEvictionAPI",
                                 "message": "Eviction API: evicting"]
        if let i = out.firstIndex(where: { $0["type"]?.stringValue == "DisruptionTarget" }) {
            if out[i]["status"]?.stringValue == "True", let since = out[i]["lastTransitionTime"] { target["lastTransitionTime"] = since }
            out[i] = target
        } else {
            out.append(target)
        }
        return out
    }

    // MARK: errors

    static func isConflict(_ e: APIError) -> Bool { e.code == 409 && e.reason == "Conflict" }

    /// 409 about the evicted pod, in kube's words (it names the kind `Pod`).
    static func podConflict(_ name: String, _ why: String) -> APIError {
        APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on Pod \"\(name)\": \(why)",
                 details: ["name": .string(name), "kind": "Pod"])
    }

    /// 429: the budget's status is older than its spec (`createTooManyRequestsError`).
    static func budgetStillProcessing(_ name: String) -> APIError {
        tooManyRequests("The disruption budget \(name) is still being processed by the server.", retryAfter: 10)
    }

    /// 429 `TooManyRequests` with one `DisruptionBudget` cause (`errors.NewTooManyRequests`).
    static func tooManyRequests(_ cause: String, retryAfter seconds: Int) -> APIError {
        var details: JSONValue = ["causes": [["reason": "DisruptionBudget", "message": .string(cause)]]]
        if seconds > 0 { details["retryAfterSeconds"] = .int(Int64(seconds)) }
        var e = APIError(code: 429, reason: "TooManyRequests", message: "Cannot evict pod as it would violate the pod's disruption budget.",
                         details: details)
        if seconds > 0 { e.retryAfterSeconds = seconds }
        return e
    }

    /// 403 about a budget in a state evictions cannot trust.
    static func budgetForbidden(_ name: String, _ why: String) -> APIError {
        APIError(code: 403, reason: "Forbidden", message: "poddisruptionbudget.policy \"\(name)\" is forbidden: \(why)",
                 details: ["name": .string(name), "group": "policy", "kind": "poddisruptionbudget"])
    }
}
