import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// Pod Security admission: namespace labels choose the level each mode applies; enforce
/// refuses pods with kube-apiserver's exact messages, warn answers with warnings, pod
/// controllers are only warned about, and raising a namespace's enforce level warns about the
/// pods already there.
private let enforce = "pod-security.kubernetes.io/enforce"
private let audit = "pod-security.kubernetes.io/audit"
private let warn = "pod-security.kubernetes.io/warn"

struct PodSecurityAdmissionTests {

    /// A cluster with namespace `psa` labelled `labels`.
    static func cluster(_ labels: [String: String] = [:]) async throws -> TestCluster {
        let c = try await TestCluster(namespaces: [], admission: AdmissionChain([PodSecurityAdmission()]))
        _ = try await c.registry.create(c.r("namespaces"), namespace: nil, object: namespace("psa", labels))
        return c
    }

    static func namespace(_ name: String, _ labels: [String: String]) -> JSONValue {
        ["metadata": ["name": .string(name), "labels": .object(labels.mapValues(JSONValue.string))]]
    }

    static func pod(_ name: String, _ spec: JSONValue, annotations: [String: String] = [:]) -> JSONValue {
        ["metadata": ["name": .string(name), "annotations": .object(annotations.mapValues(JSONValue.string))], "spec": spec]
    }

    /// Meets baseline, not restricted.
    static let baselinePod = json(#"{"containers": [{"name": "c", "image": "busybox:1.35"}]}"#)
    /// Meets restricted.
    static let restrictedPod = json(#"""
        {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
         "containers": [{"name": "c", "image": "busybox:1.35",
                         "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}
        """#)
    static let restrictedReasons = #"allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#

    /// The warnings `body` gets.
    static func warnings(_ body: () async throws -> Void) async rethrows -> [String] {
        let sink = AdmissionWarnings()
        try await AdmissionWarnings.$current.withValue(sink) { try await body() }
        return sink.warnings
    }

    /// `restrictedPod` with `change` applied.
    static func restricted(_ change: (inout JSONValue) -> Void) -> JSONValue {
        var spec = restrictedPod
        change(&spec)
        return spec
    }

    @Test(arguments: [
        // baseline
        ("baseline", json(#"{"containers": [{"name": "c", "image": "busybox:1.35", "securityContext": {"privileged": true}}]}"#),
         #"pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)"#),
        ("baseline", json(#"""
            {"hostNetwork": true, "volumes": [{"name": "h", "hostPath": {"path": "/tmp"}}],
             "containers": [{"name": "c", "image": "busybox:1.35", "ports": [{"containerPort": 8080, "hostPort": 8080}]}]}
            """#),
         #"pods "p" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), hostPath volumes (volume "h"), hostPort (container "c" uses hostPort 8080)"#),
        ("baseline", json(#"{"containers": [{"name": "c", "image": "busybox:1.35", "securityContext": {"capabilities": {"add": ["CHOWN", "SYS_ADMIN", "NET_RAW"]}}}]}"#),
         #"pods "p" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "c" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)"#),
        ("baseline", json(#"""
            {"securityContext": {"seccompProfile": {"type": "Unconfined"}, "sysctls": [{"name": "kernel.msgmax", "value": "1"}]},
             "containers": [{"name": "c", "image": "busybox:1.35", "securityContext": {"seLinuxOptions": {"type": "spc_t"}}}]}
            """#),
         #"pods "p" is forbidden: violates PodSecurity "baseline:latest": seLinuxOptions (container "c" set forbidden securityContext.seLinuxOptions: type "spc_t"), seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined"), forbidden sysctls (kernel.msgmax)"#),
        ("baseline", PodSecurityAdmissionTests.baselinePod, nil),
        // restricted
        ("restricted", PodSecurityAdmissionTests.baselinePod, #"pods "p" is forbidden: violates PodSecurity "restricted:latest": "# + PodSecurityAdmissionTests.restrictedReasons),
        ("restricted", PodSecurityAdmissionTests.restrictedPod, nil),
        ("restricted", PodSecurityAdmissionTests.restricted {
            $0["volumes"] = [["name": "h", "hostPath": ["path": "/tmp"]]]
            $0[path: ["containers"]] = [["name": "c", "image": "busybox:1.35", "securityContext": [
                "allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"], "add": ["NET_BIND_SERVICE", "SYS_ADMIN"]], "runAsUser": 0]]]
        },
         #"pods "p" is forbidden: violates PodSecurity "restricted:latest": unrestricted capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add), restricted volume types (volume "h" uses restricted volume type "hostPath"), runAsUser=0 (container "c" must not set runAsUser=0)"#),
    ] as [(String, JSONValue, String?)])
    func enforceRefusesViolations(level: String, spec: JSONValue, refusal: String?) async throws {
        let c = try await Self.cluster([enforce: level])
        let e = await apiError { _ = try await c.registry.create(c.r("pods"), namespace: "psa", object: Self.pod("p", spec)) }
        #expect(e?.message == refusal)
        if refusal != nil {
            #expect(e?.code == 403)
            #expect(e?.reason == "Forbidden")
        } else {
            _ = try await c.registry.get(c.r("pods"), namespace: "psa", name: "p")
        }
    }

    @Test func aPinnedVersionChecksWhatThatVersionChecked() async throws {
        // Capabilities joined restricted in v1.22.
        let c = try await Self.cluster([enforce: "restricted", enforce + "-version": "v1.21"])
        let e = await apiError { _ = try await c.registry.create(c.r("pods"), namespace: "psa", object: Self.pod("p", Self.baselinePod)) }
        #expect(e?.message == #"pods "p" is forbidden: violates PodSecurity "restricted:v1.21": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#)
    }

    @Test func appArmorAnnotationsAreChecked() async throws {
        let c = try await Self.cluster([enforce: "baseline"])
        let pod = Self.pod("p", Self.baselinePod, annotations: ["container.apparmor.security.beta.kubernetes.io/c": "unconfined"])
        let e = await apiError { _ = try await c.registry.create(c.r("pods"), namespace: "psa", object: pod) }
        #expect(e?.message == #"pods "p" is forbidden: violates PodSecurity "baseline:latest": forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/c="unconfined"")"#)
    }

    @Test func warnModeStoresThePodWithAWarning() async throws {
        let c = try await Self.cluster([warn: "restricted"])
        let warnings = try await Self.warnings {
            _ = try await c.registry.create(c.r("pods"), namespace: "psa", object: Self.pod("p", Self.baselinePod))
        }
        #expect(warnings == [#"would violate PodSecurity "restricted:latest": "# + Self.restrictedReasons])
        _ = try await c.registry.get(c.r("pods"), namespace: "psa", name: "p")
        // A compliant pod gets none.
        let none = try await Self.warnings {
            _ = try await c.registry.create(c.r("pods"), namespace: "psa", object: Self.pod("q", Self.restrictedPod))
        }
        #expect(none.isEmpty)
    }

    @Test func aRefusedPodGetsNoWarnings() async throws {
        let c = try await Self.cluster([enforce: "baseline", warn: "restricted"])
        let privileged = json(#"{"containers": [{"name": "c", "image": "busybox:1.35", "securityContext": {"privileged": true}}]}"#)
        var error: APIError?
        let warnings = await Self.warnings {
            error = await apiError { _ = try await c.registry.create(c.r("pods"), namespace: "psa", object: Self.pod("p", privileged)) }
        }
        #expect(error?.code == 403)
        #expect(warnings.isEmpty)
    }

    @Test func podControllersAreWarnedNeverRefused() async throws {
        // An enforce label alone also warns (Kubernetes 1.26+).
        let c = try await Self.cluster([enforce: "restricted"])
        let deployment: JSONValue = [
            "metadata": ["name": "web"],
            "spec": ["replicas": 1, "selector": ["matchLabels": ["app": "web"]],
                     "template": ["metadata": ["labels": ["app": "web"]], "spec": Self.baselinePod]],
        ]
        let warnings = try await Self.warnings {
            _ = try await c.registry.create(c.r("deployments", "apps"), namespace: "psa", object: deployment)
        }
        #expect(warnings == [#"would violate PodSecurity "restricted:latest": "# + Self.restrictedReasons])
        _ = try await c.registry.get(c.r("deployments", "apps"), namespace: "psa", name: "web")
    }

    @Test func raisingEnforceWarnsAboutExistingPodsAndUpdatesAreJudgedWhenTheyMatter() async throws {
        let c = try await Self.cluster()
        let privileged = json(#"{"containers": [{"name": "c", "image": "busybox:1.35", "securityContext": {"privileged": true}}]}"#)
        for (name, spec) in [("b", Self.baselinePod), ("a", Self.baselinePod), ("z", privileged), ("ok", Self.restrictedPod)] {
            _ = try await c.registry.create(c.r("pods"), namespace: "psa", object: Self.pod(name, spec))
        }
        var ns = try await c.registry.get(c.r("namespaces"), namespace: nil, name: "psa")
        ns[path: ["metadata", "labels"]] = .object([enforce: "restricted"])
        let warnings = try await Self.warnings {
            ns = try await c.registry.update(c.r("namespaces"), namespace: nil, name: "psa", object: ns)
        }
        #expect(warnings == [
            #"existing pods in namespace "psa" violate the new PodSecurity enforce level "restricted:latest""#,
            "a (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
            "z: privileged, allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
        ])

        // The pods stay; an update that changes no image, seccomp annotation or ephemeral
        // container is not judged; one that changes an image is.
        var pod = try await c.registry.get(c.r("pods"), namespace: "psa", name: "a")
        pod[path: ["metadata", "labels"]] = ["touched": "yes"]
        pod = try await c.registry.update(c.r("pods"), namespace: "psa", name: "a", object: pod)
        let e = await apiError { _ = try await c.registry.update(c.r("pods"), namespace: "psa", name: "a", object: Self.withImage(pod, "busybox:latest")) }
        #expect(e?.code == 403)
        #expect(e?.message == #"pods "a" is forbidden: violates PodSecurity "restricted:latest": "# + Self.restrictedReasons)

        // Relaxing enforce checks nothing.
        ns[path: ["metadata", "labels"]] = .object([enforce: "baseline"])
        let relaxed = try await Self.warnings {
            _ = try await c.registry.update(c.r("namespaces"), namespace: nil, name: "psa", object: ns)
        }
        #expect(relaxed.isEmpty)
    }

    /// `pod` with its first container's image set to `image`.
    static func withImage(_ pod: JSONValue, _ image: String) -> JSONValue {
        var pod = pod
        var containers = pod[path: ["spec", "containers"]]?.arrayValue ?? []
        containers[0]["image"] = .string(image)
        pod[path: ["spec", "containers"]] = .array(containers)
        return pod
    }

    @Test func invalidLabelsAreRefusedOnNamespaces() async throws {
        let c = try await Self.cluster()
        let e = await apiError {
            _ = try await c.registry.create(c.r("namespaces"), namespace: nil, object: Self.namespace("bad", [enforce: "strict"]))
        }
        #expect(e?.code == 422)
        #expect(e?.message == #"Namespace "bad" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted"#)
    }

    @Test(arguments: [
        ([enforce: "baseline"], "baseline:latest", "privileged:latest", "baseline:latest", 0),
        ([enforce: "restricted", enforce + "-version": "v1.25"], "restricted:v1.25", "privileged:latest", "restricted:v1.25", 0),
        ([enforce: "restricted", warn: "privileged"], "restricted:latest", "privileged:latest", "privileged:latest", 0),
        ([enforce: "restricted", warn + "-version": "v1.30"], "restricted:latest", "privileged:latest", "restricted:v1.30", 0),
        // A bad enforce level is evaluated as restricted; bad audit and warn levels fail open.
        ([enforce: "strict"], "restricted:latest", "privileged:latest", "restricted:latest", 1),
        ([audit: "loud", warn: "loud"], "privileged:latest", "privileged:latest", "privileged:latest", 2),
        ([enforce: "baseline", enforce + "-version": "v1.01"], "baseline:latest", "privileged:latest", "baseline:latest", 1),
    ] as [([String: String], String, String, String, Int)])
    func labelsMakeThePolicy(labels: [String: String], enforce: String, audit: String, warn: String, errors: Int) {
        let (policy, causes) = PodSecurityPolicy.forLabels(labels)
        #expect(policy.enforce.description == enforce)
        #expect(policy.audit.description == audit)
        #expect(policy.warn.description == warn)
        #expect(causes.count == errors)
    }
}
