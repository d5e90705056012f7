import Foundation
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// The workload kinds get Kubernetes' defaults when created through the registry.
@Suite struct WorkloadDefaultsTests {
    /// (resource, group, object, [path: expected value])
    static let cases: [(String, String, JSONValue, [String: JSONValue])] = [
        ("deployments", "apps", WorkloadFixtures.deployment(), [
            "spec.replicas": 1, "spec.strategy.type": "RollingUpdate",
            "spec.strategy.rollingUpdate.maxUnavailable": "25%", "spec.strategy.rollingUpdate.maxSurge": "25%",
            "spec.revisionHistoryLimit": 10, "spec.progressDeadlineSeconds": 600,
            "spec.template.spec.restartPolicy": "Always", "spec.template.spec.dnsPolicy": "ClusterFirst",
            "spec.template.spec.terminationGracePeriodSeconds": 30, "spec.template.spec.schedulerName": "default-scheduler",
            "spec.template.spec.securityContext": [:], "status": [:],
        ]),
        ("replicasets", "apps", WorkloadFixtures.replicaSet(), ["spec.replicas": 1, "status": ["replicas": 0]]),
        ("statefulsets", "apps", WorkloadFixtures.statefulSet(), [
            "spec.replicas": 1, "spec.podManagementPolicy": "OrderedReady", "spec.updateStrategy.type": "RollingUpdate",
            "spec.updateStrategy.rollingUpdate.partition": 0, "spec.revisionHistoryLimit": 10,
            "spec.persistentVolumeClaimRetentionPolicy.whenDeleted": "Retain",
            "spec.persistentVolumeClaimRetentionPolicy.whenScaled": "Retain",
            "status": ["replicas": 0],
        ]),
        ("daemonsets", "apps", WorkloadFixtures.daemonSet(), [
            "spec.updateStrategy.type": "RollingUpdate", "spec.updateStrategy.rollingUpdate.maxUnavailable": 1,
            "spec.updateStrategy.rollingUpdate.maxSurge": 0, "spec.revisionHistoryLimit": 10,
            "status": ["currentNumberScheduled": 0, "desiredNumberScheduled": 0, "numberMisscheduled": 0, "numberReady": 0],
        ]),
        ("jobs", "batch", WorkloadFixtures.job(), [
            "spec.parallelism": 1, "spec.completions": 1, "spec.backoffLimit": 6, "spec.completionMode": "NonIndexed",
            "spec.suspend": false, "spec.manualSelector": false, "spec.podReplacementPolicy": "TerminatingOrFailed",
            "spec.template.spec.restartPolicy": "Never", "status": [:],
        ]),
        ("cronjobs", "batch", WorkloadFixtures.cronJob(), [
            "spec.concurrencyPolicy": "Allow", "spec.suspend": false, "spec.successfulJobsHistoryLimit": 3,
            "spec.failedJobsHistoryLimit": 1, "spec.jobTemplate.spec.template.spec.dnsPolicy": "ClusterFirst", "status": [:],
        ]),
        ("replicationcontrollers", "", WorkloadFixtures.replicationController(), [
            "spec.replicas": 1, "spec.selector": ["app": "web"], "metadata.labels": ["app": "web"], "status": ["replicas": 0],
        ]),
        ("podtemplates", "", WorkloadFixtures.podTemplate(), [
            "template.spec.restartPolicy": "Always", "template.spec.terminationGracePeriodSeconds": 30,
        ]),
    ]

    @Test(arguments: cases)
    func defaultsOnCreate(resource: String, group: String, object: JSONValue, expected: [String: JSONValue]) async throws {
        let c = try await TestCluster()
        var input = object
        input["status"] = ["observedGeneration": 42]
        let created = try await c.registry.create(c.r(resource, group), namespace: "default", object: input)
        for (path, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(created[path: path.split(separator: ".").map(String.init)] == value, "\(resource) \(path)")
        }
        if resource != "podtemplates" {
            #expect(created[path: ["status", "observedGeneration"]] == nil, "status is cleared on create")
        }
    }

    @Test func explicitValuesWin() async throws {
        let c = try await TestCluster()
        var d = WorkloadFixtures.deployment()
        d[path: ["spec", "replicas"]] = 0
        d[path: ["spec", "strategy"]] = ["type": "Recreate"]
        d[path: ["spec", "revisionHistoryLimit"]] = 2
        let created = try await c.registry.create(c.r("deployments", "apps"), namespace: "default", object: d)
        #expect(created[path: ["spec", "replicas"]] == 0)
        #expect(created[path: ["spec", "strategy"]] == ["type": "Recreate"], "no rollingUpdate for Recreate")
        #expect(created[path: ["spec", "revisionHistoryLimit"]] == 2)
    }

    /// A host-network pod's container ports are the node's: `hostPort` defaults to `containerPort`.
    @Test func hostNetworkPortsDefaultTheirHostPort() async throws {
        let c = try await TestCluster()
        let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "hn"],
                              "spec": ["hostNetwork": true, "containers": [[
                                  "name": "c", "image": "busybox", "ports": [["containerPort": 8080], ["containerPort": 9090, "hostPort": 9091]],
                              ]]]]
        let created = try await c.registry.create(c.r("pods", ""), namespace: "default", object: pod)
        let ports = created[path: ["spec", "containers"]]?.arrayValue?.first?["ports"]?.arrayValue ?? []
        #expect(ports.map { $0["hostPort"] } == [8080, 9091])
    }

    @Test func templatesGetPodSpecDefaultsButNotPodOnlyOnes() async throws {
        let c = try await TestCluster()
        var d = WorkloadFixtures.deployment()
        d[path: ["spec", "template", "spec", "containers"]] = [[
            "name": "c", "image": "nginx", "ports": [["containerPort": 80]],
            "resources": ["limits": ["cpu": "1"]],
            "livenessProbe": ["httpGet": ["port": 80]],
            "env": [["name": "NODE", "valueFrom": ["fieldRef": ["fieldPath": "spec.nodeName"]]]],
        ]]
        d[path: ["spec", "template", "spec", "serviceAccountName"]] = "robot"
        // Host-network ports get their hostPort in pods, not in templates (since Kubernetes 1.28).
        d[path: ["spec", "template", "spec", "hostNetwork"]] = true
        let created = try await c.registry.create(c.r("deployments", "apps"), namespace: "default", object: d)
        let spec = try #require(created[path: ["spec", "template", "spec"]])
        let container = try #require(spec["containers"]?.arrayValue?.first)
        #expect(container["imagePullPolicy"] == "Always", "untagged images are :latest")
        #expect(container["terminationMessagePath"] == "/dev/termination-log")
        #expect(container["terminationMessagePolicy"] == "File")
        #expect(container[path: ["ports"]] == [["containerPort": 80, "protocol": "TCP"]])
        #expect(container[path: ["resources", "requests"]] == nil, "requests default to limits only in pods")
        #expect(container["livenessProbe"] == ["httpGet": ["port": 80, "path": "/", "scheme": "HTTP"],
                                               "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3])
        #expect(container[path: ["env"]]?.arrayValue?.first?[path: ["valueFrom", "fieldRef", "apiVersion"]] == "v1")
        #expect(spec["serviceAccount"] == "robot", "the deprecated field follows serviceAccountName")
        for podOnly in ["tolerations", "priority", "enableServiceLinks", "preemptionPolicy"] {
            #expect(spec[podOnly] == nil, "\(podOnly) is not a template default")
        }
    }

    @Test func podsStillGetEverything() async throws {
        let c = try await TestCluster()
        var pod = WorkloadFixtures.pod()
        pod[path: ["spec", "containers"]] = [["name": "c", "image": "busybox:1.35", "resources": ["limits": ["cpu": "1", "memory": "1Gi"]]]]
        let created = try await c.registry.create(c.r("pods"), namespace: "default", object: pod)
        let spec = try #require(created["spec"])
        #expect(spec["serviceAccountName"] == "default")
        #expect(spec["enableServiceLinks"] == true)
        #expect(spec["priority"] == 0)
        #expect(spec["tolerations"]?.arrayValue?.count == 2)
        #expect(spec["containers"]?.arrayValue?.first?[path: ["resources", "requests"]] == ["cpu": "1", "memory": "1Gi"])
        #expect(created[path: ["status", "qosClass"]] == "Guaranteed")
        #expect(created[path: ["status", "phase"]] == "Pending")
    }

    @Test func jobsSelectTheirOwnPods() async throws {
        let c = try await TestCluster()
        let created = try await c.registry.create(c.r("jobs", "batch"), namespace: "default", object: WorkloadFixtures.job())
        let uid = JSONValue.string(try #require(created.metadataUID))
        #expect(created[path: ["spec", "selector"]] == ["matchLabels": ["batch.kubernetes.io/controller-uid": uid]])
        let labels: JSONValue = ["app": "pi", "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
                                 "controller-uid": uid, "job-name": "pi"]
        #expect(created[path: ["spec", "template", "metadata", "labels"]] == labels)
        #expect(created[path: ["metadata", "labels"]] == labels, "a job without labels takes its template's")
    }

    @Test func manualSelectorsAreKept() async throws {
        let c = try await TestCluster()
        var job = WorkloadFixtures.job()
        job[path: ["spec", "manualSelector"]] = true
        job[path: ["spec", "selector"]] = ["matchLabels": ["app": "pi"]]
        let created = try await c.registry.create(c.r("jobs", "batch"), namespace: "default", object: job)
        #expect(created[path: ["spec", "selector"]] == ["matchLabels": ["app": "pi"]])
        #expect(created[path: ["spec", "template", "metadata", "labels"]] == ["app": "pi"])
    }

    @Test func jobParallelismAloneLeavesCompletionsUnset() async throws {
        let c = try await TestCluster()
        var job = WorkloadFixtures.job()
        job[path: ["spec", "parallelism"]] = 3
        let created = try await c.registry.create(c.r("jobs", "batch"), namespace: "default", object: job)
        #expect(created[path: ["spec", "parallelism"]] == 3)
        #expect(created[path: ["spec", "completions"]] == nil)
    }

    @Test func statefulSetClaimTemplatesAreDefaulted() async throws {
        let c = try await TestCluster()
        let created = try await c.registry.create(c.r("statefulsets", "apps"), namespace: "default", object: WorkloadFixtures.statefulSet())
        let claim = try #require(created[path: ["spec", "volumeClaimTemplates"]]?.arrayValue?.first)
        #expect(claim["apiVersion"] == "v1" && claim["kind"] == "PersistentVolumeClaim")
        #expect(claim[path: ["spec", "volumeMode"]] == "Filesystem")
        #expect(claim[path: ["status", "phase"]] == "Pending")
    }

    @Test func updatesAreDefaultedToo() async throws {
        let c = try await TestCluster()
        let deployments = c.r("deployments", "apps")
        let created = try await c.registry.create(deployments, namespace: "default", object: WorkloadFixtures.deployment())
        var replaced = WorkloadFixtures.deployment()
        replaced.resourceVersion = created.resourceVersion
        let updated = try await c.registry.update(deployments, namespace: "default", name: "web", object: replaced)
        #expect(updated[path: ["spec", "replicas"]] == 1)
        #expect(updated.resourceVersion == created.resourceVersion, "re-sending the same manifest is a no-op")
    }
}
