import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Validation of the workload kinds, with Kubernetes' messages.
@Suite struct WorkloadValidationTests {
    /// Applies `edit` to `object` (a path and a value; nil removes).
    static func edited(_ object: JSONValue, _ edits: [(String, JSONValue?)]) -> JSONValue {
        var o = object
        for (path, value) in edits { o[path: path.split(separator: ".").map(String.init)] = value }
        return o
    }

    /// (case, resource, group, object, a message the error must contain)
    static let invalid: [(String, String, String, JSONValue, String)] = [
        ("deployment without selector", "deployments", "apps", edited(WorkloadFixtures.deployment(), [("spec.selector", nil)]),
         #"spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`"#),
        ("selector mismatch", "deployments", "apps", edited(WorkloadFixtures.deployment(), [("spec.selector.matchLabels.app", "api")]),
         #"Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`"#),
        ("empty selector", "deployments", "apps", edited(WorkloadFixtures.deployment(), [("spec.selector", [:])]),
         #"spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"#),
        ("negative replicas", "deployments", "apps", edited(WorkloadFixtures.deployment(), [("spec.replicas", -1)]),
         "spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
        ("deployment pods must restart", "deployments", "apps", edited(WorkloadFixtures.deployment(), [("spec.template.spec.restartPolicy", "Never")]),
         #"spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always""#),
        ("template pod spec", "deployments", "apps", edited(WorkloadFixtures.deployment(), [("spec.template.spec.containers", [["name": "c"]])]),
         "spec.template.spec.containers[0].image: Required value"),
        ("bad strategy", "deployments", "apps", edited(WorkloadFixtures.deployment(), [("spec.strategy.type", "Sideways")]),
         #"spec.strategy.type: Unsupported value: "Sideways": supported values: "Recreate", "RollingUpdate""#),
        ("recreate with rolling parameters", "deployments", "apps",
         edited(WorkloadFixtures.deployment(), [("spec.strategy", ["type": "Recreate", "rollingUpdate": ["maxSurge": 1]])]),
         "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"),
        ("zero surge and unavailable", "deployments", "apps",
         edited(WorkloadFixtures.deployment(), [("spec.strategy.rollingUpdate", ["maxSurge": 0, "maxUnavailable": "0%"])]),
         "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"0%\"}: may not be 0 when `maxSurge` is 0"),
        ("bad percent", "deployments", "apps", edited(WorkloadFixtures.deployment(), [("spec.strategy.rollingUpdate.maxSurge", "lots")]),
         "a valid percent string must be a numeric string followed by an ending '%'"),
        ("bad selector operator", "deployments", "apps",
         edited(WorkloadFixtures.deployment(), [("spec.selector.matchExpressions", [["key": "tier", "operator": "Near"]])]),
         #"spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator"#),
        ("replicaset selector", "replicasets", "apps", edited(WorkloadFixtures.replicaSet(), [("spec.selector", [:])]),
         "empty selector is invalid for deployment"),
        ("statefulset selector", "statefulsets", "apps", edited(WorkloadFixtures.statefulSet(), [("spec.selector.matchLabels.app", "db")]),
         "`selector` does not match template `labels`"),
        ("statefulset policy", "statefulsets", "apps", edited(WorkloadFixtures.statefulSet(), [("spec.podManagementPolicy", "Random")]),
         #"spec.podManagementPolicy: Invalid value: "Random": must be 'OrderedReady' or 'Parallel'"#),
        ("daemonset update strategy", "daemonsets", "apps", edited(WorkloadFixtures.daemonSet(), [("spec.updateStrategy.type", "Never")]),
         #"spec.updateStrategy.type: Unsupported value: "Never": supported values: "OnDelete", "RollingUpdate""#),
        ("daemonset selector", "daemonsets", "apps", edited(WorkloadFixtures.daemonSet(), [("spec.selector", [:])]),
         "empty selector is invalid for daemonset"),
        ("job restart policy", "jobs", "batch", edited(WorkloadFixtures.job(), [("spec.template.spec.restartPolicy", nil)]),
         #"spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never""#),
        ("job counts", "jobs", "batch", edited(WorkloadFixtures.job(), [("spec.backoffLimit", -2)]),
         "spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0"),
        ("indexed job needs completions", "jobs", "batch",
         edited(WorkloadFixtures.job(), [("spec.completionMode", "Indexed"), ("spec.parallelism", 2)]),
         "spec.completions: Required value: when completion mode is Indexed"),
        ("manual selector must match", "jobs", "batch",
         edited(WorkloadFixtures.job(), [("spec.manualSelector", true), ("spec.selector", ["matchLabels": ["app": "other"]])]),
         "`selector` does not match template `labels`"),
        ("manual selector required", "jobs", "batch", edited(WorkloadFixtures.job(), [("spec.manualSelector", true)]),
         "spec.selector: Required value"),
        ("cronjob schedule required", "cronjobs", "batch", edited(WorkloadFixtures.cronJob(), [("spec.schedule", "")]),
         "spec.schedule: Required value"),
        ("cronjob schedule syntax", "cronjobs", "batch", edited(WorkloadFixtures.cronJob(), [("spec.schedule", "every day")]),
         #"spec.schedule: Invalid value: "every day": expected exactly 5 fields, found 2: [every day]"#),
        ("cronjob TZ in schedule", "cronjobs", "batch", edited(WorkloadFixtures.cronJob(), [("spec.schedule", "TZ=UTC 0 * * * *")]),
         "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
        ("cronjob time zone", "cronjobs", "batch", edited(WorkloadFixtures.cronJob(), [("spec.timeZone", "Mars/Olympus")]),
         #"spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus"#),
        ("cronjob concurrency", "cronjobs", "batch", edited(WorkloadFixtures.cronJob(), [("spec.concurrencyPolicy", "Sometimes")]),
         #"spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace""#),
        ("cronjob job restart policy", "cronjobs", "batch",
         edited(WorkloadFixtures.cronJob(), [("spec.jobTemplate.spec.template.spec.restartPolicy", "Always")]),
         #"spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always""#),
        ("cronjob selector", "cronjobs", "batch",
         edited(WorkloadFixtures.cronJob(), [("spec.jobTemplate.spec.selector", ["matchLabels": ["a": "b"]])]),
         "spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"a\":\"b\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated"),
        ("rc selector mismatch", "replicationcontrollers", "",
         edited(WorkloadFixtures.replicationController(), [("spec.selector", ["app": "db"])]),
         #"spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: selector does not match template labels"#),
        ("rc without template or selector", "replicationcontrollers", "", ["metadata": ["name": "rc"], "spec": [:]],
         "spec.selector: Required value, spec.template: Required value"),
        ("pod template spec", "podtemplates", "", edited(WorkloadFixtures.podTemplate(), [("template.spec.containers", [])]),
         "template.spec.containers: Required value"),
    ]

    @Test(arguments: invalid)
    func invalidWorkloads(name: String, resource: String, group: String, object: JSONValue, message: String) async throws {
        let c = try await TestCluster()
        let e = await apiError { _ = try await c.registry.create(c.r(resource, group), namespace: "default", object: object) }
        #expect(e?.code == 422, "\(name)")
        #expect(e?.message.contains(message) == true, "\(name): \(e?.message ?? "no error")")
    }

    static let valid: [(String, String, JSONValue)] = [
        ("deployments", "apps", WorkloadFixtures.deployment()),
        ("deployments", "apps", edited(WorkloadFixtures.deployment(), [("spec.selector", ["matchExpressions": [["key": "app", "operator": "In", "values": ["web"]]]])])),
        ("replicasets", "apps", WorkloadFixtures.replicaSet()),
        ("statefulsets", "apps", WorkloadFixtures.statefulSet()),
        ("daemonsets", "apps", WorkloadFixtures.daemonSet()),
        ("jobs", "batch", WorkloadFixtures.job()),
        ("cronjobs", "batch", WorkloadFixtures.cronJob()),
        ("cronjobs", "batch", edited(WorkloadFixtures.cronJob(), [("spec.schedule", "@hourly"), ("spec.timeZone", "Europe/Berlin")])),
        ("replicationcontrollers", "", WorkloadFixtures.replicationController()),
        ("podtemplates", "", WorkloadFixtures.podTemplate()),
    ]

    @Test(arguments: valid)
    func validWorkloadsAreAccepted(resource: String, group: String, object: JSONValue) async throws {
        let c = try await TestCluster()
        _ = try await c.registry.create(c.r(resource, group), namespace: "default", object: object)
    }

    @Test func selectorsAreImmutable() async throws {
        let c = try await TestCluster()
        let deployments = c.r("deployments", "apps")
        var d = try await c.registry.create(deployments, namespace: "default", object: WorkloadFixtures.deployment())
        d[path: ["spec", "selector", "matchLabels"]] = ["app": "web", "tier": "fe"]
        d[path: ["spec", "template", "metadata", "labels", "tier"]] = "fe"
        let e = await apiError { _ = try await c.registry.update(deployments, namespace: "default", name: "web", object: d) }
        #expect(e?.code == 422)
        #expect(e?.message.contains(#"spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"fe"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"#) == true, "\(e?.message ?? "")")
    }

    @Test func statefulSetSpecsAreMostlyImmutable() async throws {
        let c = try await TestCluster()
        let sets = c.r("statefulsets", "apps")
        var s = try await c.registry.create(sets, namespace: "default", object: WorkloadFixtures.statefulSet())
        s[path: ["spec", "replicas"]] = 3
        s = try await c.registry.update(sets, namespace: "default", name: "db", object: s)
        s[path: ["spec", "serviceName"]] = "other"
        let e = await apiError { _ = try await c.registry.update(sets, namespace: "default", name: "db", object: s) }
        #expect(e?.message.contains("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden") == true)
    }

    @Test func jobTemplatesAreImmutableUnlessSuspended() async throws {
        let c = try await TestCluster()
        let jobs = c.r("jobs", "batch")
        var job = try await c.registry.create(jobs, namespace: "default", object: WorkloadFixtures.job())
        job[path: ["spec", "template", "spec", "containers"]] = [["name": "c", "image": "busybox:latest"]]
        let e = await apiError { _ = try await c.registry.update(jobs, namespace: "default", name: "pi", object: job) }
        #expect(e?.message.contains("spec.template: Invalid value:") == true)
        #expect(e?.message.contains("field is immutable") == true)

        var suspended = WorkloadFixtures.job()
        suspended[path: ["metadata", "name"]] = "later"
        suspended[path: ["spec", "suspend"]] = true
        var s = try await c.registry.create(jobs, namespace: "default", object: suspended)
        s[path: ["spec", "template", "spec", "nodeSelector"]] = ["disk": "ssd"]
        s = try await c.registry.update(jobs, namespace: "default", name: "later", object: s)
        #expect(s[path: ["spec", "template", "spec", "nodeSelector"]] == ["disk": "ssd"])
    }

    @Test func statusWritesSkipSpecValidation() async throws {
        let c = try await TestCluster()
        let deployments = c.r("deployments", "apps")
        var d = try await c.registry.create(deployments, namespace: "default", object: WorkloadFixtures.deployment())
        d["status"] = ["replicas": 1, "readyReplicas": 1]
        let updated = try await c.registry.update(deployments, namespace: "default", name: "web", object: d, subresource: "status")
        #expect(updated[path: ["status", "readyReplicas"]] == 1)
    }

    @Test func scaleGoesThroughValidation() async throws {
        let c = try await TestCluster()
        let deployments = c.r("deployments", "apps")
        _ = try await c.registry.create(deployments, namespace: "default", object: WorkloadFixtures.deployment())
        let scaled = try await ScaleSubresource.write(c.registry, deployments, "default", "web", replicas: 5, resourceVersion: nil)
        #expect(scaled[path: ["spec", "replicas"]] == 5)
        #expect(scaled[path: ["metadata", "generation"]] == 2)
    }
}
