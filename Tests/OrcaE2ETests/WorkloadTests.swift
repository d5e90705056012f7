import Foundation
import Testing

/// Issue 11's acceptance: workload controllers making real pods through a real
/// `orca server` with its embedded agent, driven by the real kubectl.
@Suite(.serialized) struct WorkloadTests {
    /// Names of the pods with `selector` that are not being deleted.
    static func livePods(_ s: OrcaServerProcess, _ selector: String) throws -> [String] {
        let out = try s.k("get", "pods", "-l", selector, "-o",
                          "jsonpath={range .items[?(@.metadata.deletionTimestamp)]}{.metadata.name}{\"\\n\"}{end}")
        let deleting = Set(out.split(separator: "\n").map(String.init))
        let all = try s.k("get", "pods", "-l", selector, "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}")
        return all.split(separator: "\n").map(String.init).filter { !deleting.contains($0) }
    }

    @Test func replicaSetKeepsItsPodsRunningReplacesADeletedOneAndScales() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        _ = try s.k("apply", "-f", "-", stdin: """
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: front}
        spec:
          replicas: 3
          selector: {matchLabels: {app: front}}
          template:
            metadata: {labels: {app: front}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: docker.io/library/busybox:1.35, command: [sleep, "3600"]}]
        """)
        try s.eventually("3 ready replicas", timeout: 120) {
            try s.k("get", "rs", "front", "-o", "jsonpath={.status.readyReplicas}") == "3"
        }
        let table = try s.k("get", "rs", "front")
        #expect(table.contains("DESIRED") && table.contains("CURRENT") && table.contains("READY"))
        let first = try Self.livePods(s, "app=front")
        #expect(first.count == 3 && first.allSatisfy { $0.hasPrefix("front-") })
        let owner = try s.k("get", "pod", first[0], "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}")
        #expect(owner == "ReplicaSet/front/true")
        _ = try s.k("delete", "pod", first[0], "--wait=false")
        try s.eventually("a replacement pod", timeout: 120) {
            let now = try Self.livePods(s, "app=front")
            let ready = try s.k("get", "rs", "front", "-o", "jsonpath={.status.readyReplicas}")
            return now.count == 3 && !now.contains(first[0]) && ready == "3"
        }
        let events = try s.k("get", "events", "--field-selector", "involvedObject.name=front", "-o", "jsonpath={.items[*].reason}")
        #expect(events.contains("SuccessfulCreate"))
        _ = try s.k("scale", "rs", "front", "--replicas=1")
        try s.eventually("scaled to 1", timeout: 120) { try Self.livePods(s, "app=front").count == 1 }
        #expect(try s.k("get", "events", "--field-selector", "involvedObject.name=front", "-o", "jsonpath={.items[*].reason}").contains("SuccessfulDelete"))
    }

    static func replicaSet(_ name: String, replicas: Int = 2) -> String {
        """
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata: {name: \(name)}
        spec:
          replicas: \(replicas)
          selector: {matchLabels: {app: \(name)}}
          template:
            metadata: {labels: {app: \(name)}}
            spec:
              containers: [{name: c, image: docker.io/library/busybox:1.35}]
        """
    }

    /// `kubectl delete --cascade=background|foreground|orphan` on a ReplicaSet and its pods
    /// (no agent: the pods stay unscheduled, so they go as soon as they are deleted).
    @Test func garbageCollectionHonoursAllThreeCascadeModes() throws {
        let s = try OrcaServerProcess()
        defer { s.stop() }
        for name in ["bg", "fg", "orph"] { _ = try s.k("apply", "-f", "-", stdin: Self.replicaSet(name)) }
        for name in ["bg", "fg", "orph"] {
            try s.eventually("pods of \(name)") { try Self.livePods(s, "app=\(name)").count == 2 }
        }
        // Background (kubectl's default): the owner goes at once, the collector removes its pods.
        _ = try s.k("delete", "rs", "bg", "--cascade=background")
        try s.eventually("background collection") { try Self.livePods(s, "app=bg").isEmpty }

        // Foreground: the owner waits, marked, until its dependents are gone.
        let held = try Self.livePods(s, "app=fg")[0]
        _ = try s.k("patch", "pod", held, "--type=merge", "-p", #"{"metadata":{"finalizers":["example.com/hold"]}}"#)
        _ = try s.k("delete", "rs", "fg", "--cascade=foreground", "--wait=false")
        try s.eventually("foreground marking") {
            let finalizers = try s.k("get", "rs", "fg", "-o", "jsonpath={.metadata.finalizers}")
            let others = try Self.livePods(s, "app=fg")
            return finalizers.contains("foregroundDeletion") && others.isEmpty
        }
        #expect(try s.k("get", "rs", "fg", "-o", "jsonpath={.metadata.deletionTimestamp}").isEmpty == false)
        _ = try s.k("patch", "pod", held, "--type=merge", "-p", #"{"metadata":{"finalizers":null}}"#)
        try s.eventually("foreground completion") { try s.kubectl(["get", "rs", "fg"]).status != 0 }

        // Orphan: the owner goes, its pods stay, without the reference.
        _ = try s.k("delete", "rs", "orph", "--cascade=orphan")
        try s.eventually("orphan completion") { try s.kubectl(["get", "rs", "orph"]).status != 0 }
        let orphans = try Self.livePods(s, "app=orph")
        #expect(orphans.count == 2)
        for pod in orphans {
            #expect(try s.k("get", "pod", pod, "-o", "jsonpath={.metadata.ownerReferences}").isEmpty)
        }
    }

    /// The Deployment acceptance: create with 3 replicas, rollout status, a deleted pod is
    /// replaced, set image → history → undo, pause/resume, scale.
    @Test func deploymentRollsOutUpdatesUndoesPausesAndScales() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        _ = try s.k("create", "deployment", "web", "--image=docker.io/library/busybox:1.35", "--replicas=3", "--",
                    "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait")
        let status = try s.kubectl(["rollout", "status", "deployment/web", "--timeout=180s"], timeout: 200)
        #expect(status.status == 0 && status.out.contains("deployment \"web\" successfully rolled out"), "\(status)")
        let table = try s.k("get", "deployment", "web")
        #expect(table.contains("READY") && table.contains("UP-TO-DATE") && table.contains("AVAILABLE") && table.contains("3/3"))
        let first = try Self.livePods(s, "app=web")
        #expect(first.count == 3)
        _ = try s.k("delete", "pod", first[0], "--wait=false")
        try s.eventually("a replacement pod", timeout: 120) {
            let now = try Self.livePods(s, "app=web")
            return now.count == 3 && !now.contains(first[0])
        }

        _ = try s.k("set", "image", "deployment/web", "busybox=docker.io/library/busybox:latest")
        let second = try s.kubectl(["rollout", "status", "deployment/web", "--timeout=180s"], timeout: 200)
        #expect(second.status == 0, "\(second)")
        #expect(try s.k("get", "rs", "-l", "app=web", "-o", "name").split(separator: "\n").count == 2)
        let history = try s.k("rollout", "history", "deployment/web")
        #expect(history.contains("REVISION") && history.contains("1 ") && history.contains("2 "))
        let revision2 = try s.k("rollout", "history", "deployment/web", "--revision=2")
        #expect(revision2.contains("busybox:latest"))
        _ = try s.k("rollout", "undo", "deployment/web")
        _ = try s.k("rollout", "status", "deployment/web", "--timeout=180s")
        #expect(try s.k("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}") == "docker.io/library/busybox:1.35")
        #expect(try s.k("get", "deployment", "web", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}") == "3")

        // Paused: a template change makes no new ReplicaSet until resumed.
        _ = try s.k("rollout", "pause", "deployment/web")
        _ = try s.k("set", "env", "deployment/web", "COLOR=blue")
        Thread.sleep(forTimeInterval: 2)
        #expect(try s.k("get", "rs", "-l", "app=web", "-o", "name").split(separator: "\n").count == 2)
        #expect(try s.k("get", "deployment", "web", "-o", "jsonpath={.status.conditions[?(@.type=='Progressing')].reason}") == "DeploymentPaused")
        _ = try s.k("rollout", "resume", "deployment/web")
        _ = try s.k("rollout", "status", "deployment/web", "--timeout=180s")
        #expect(try s.k("get", "rs", "-l", "app=web", "-o", "name").split(separator: "\n").count == 3)

        _ = try s.k("scale", "deployment/web", "--replicas=1")
        try s.eventually("scaled to 1", timeout: 120) {
            try s.k("get", "deployment", "web", "-o", "jsonpath={.status.replicas}") == "1"
        }
        let events = try s.k("get", "events", "--field-selector", "involvedObject.kind=Deployment", "-o", "jsonpath={.items[*].message}")
        #expect(events.contains("Scaled up replica set web-") && events.contains("Scaled down replica set web-"))
        // A deleted Deployment takes its ReplicaSets and pods with it.
        _ = try s.k("delete", "deployment", "web")
        try s.eventually("cascade", timeout: 120) {
            try s.k("get", "rs", "-l", "app=web", "-o", "name").isEmpty && (try Self.livePods(s, "app=web")).isEmpty
        }
    }

    /// Jobs and CronJobs with real pods: completions 5 / parallelism 2 completes, a failing
    /// job stops at its backoffLimit, and a `*/1 * * * *` CronJob starts a Job within a minute.
    @Test func jobsCompleteFailAtTheirBackoffLimitAndCronJobsStartJobs() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        _ = try s.k("apply", "-f", "-", stdin: """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: five}
        spec:
          completions: 5
          parallelism: 2
          template:
            spec:
              restartPolicy: Never
              containers: [{name: c, image: docker.io/library/busybox:1.35, command: [sh, -c, "sleep 1"]}]
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: doomed}
        spec:
          backoffLimit: 1
          template:
            spec:
              restartPolicy: Never
              containers: [{name: c, image: docker.io/library/busybox:1.35, command: [sh, -c, "exit 3"]}]
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: tick}
        spec:
          schedule: "*/1 * * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: Never
                  containers: [{name: c, image: docker.io/library/busybox:1.35, command: [sh, -c, "exit 0"]}]
        """)
        var mostActive = 0
        try s.eventually("job five Complete", timeout: 180) {
            let active = Int(try s.k("get", "job", "five", "-o", "jsonpath={.status.active}")) ?? 0
            mostActive = max(mostActive, active)
            return try s.k("get", "job", "five", "-o", "jsonpath={.status.conditions[?(@.type=='Complete')].status}") == "True"
        }
        #expect(mostActive <= 2)
        #expect(try s.k("get", "job", "five", "-o", "jsonpath={.status.succeeded}") == "5")
        let table = try s.k("get", "job", "five")
        #expect(table.contains("COMPLETIONS") && table.contains("5/5"))
        try s.eventually("job doomed Failed", timeout: 180) {
            try s.k("get", "job", "doomed", "-o", "jsonpath={.status.conditions[?(@.type=='Failed')].reason}") == "BackoffLimitExceeded"
        }
        #expect(try s.k("get", "job", "doomed", "-o", "jsonpath={.status.failed}") == "2")
        try s.eventually("a job of the cronjob", timeout: 150) {
            let jobs = try s.k("get", "jobs", "-o", "jsonpath={.items[*].metadata.ownerReferences[0].name}")
            return jobs.contains("tick")
        }
        try s.eventually("lastScheduleTime", timeout: 30) {
            try !s.k("get", "cronjob", "tick", "-o", "jsonpath={.status.lastScheduleTime}").isEmpty
        }
    }

    /// A StatefulSet with volumeClaimTemplates: pods start in order, a file written by web-0
    /// survives web-0's deletion, and scale-down removes the highest ordinal first, keeping its claim.
    @Test func statefulSetStartsInOrderKeepsDataAndScalesDownFromTheTop() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer {
            _ = try? s.kubectl(["delete", "pvc", "--all", "--wait=true", "--timeout=60s"])
            PodTests.shutdown(s, bridge: bridge)
        }
        _ = try s.k("apply", "-f", "-", stdin: """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: web}
        spec:
          serviceName: web
          replicas: 3
          selector: {matchLabels: {app: sts}}
          template:
            metadata: {labels: {app: sts}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: c
                image: docker.io/library/busybox:1.35
                command: [sh, -c, "trap 'exit 0' TERM; sleep 3600 & wait"]
                volumeMounts: [{name: data, mountPath: /data}]
          volumeClaimTemplates:
          - metadata: {name: data}
            spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
        """)
        // OrderedReady: whenever web-N exists, web-(N-1) is Ready.
        try s.eventually("3 ready replicas", timeout: 180) {
            let ready = try s.k("get", "pods", "-l", "app=sts", "-o",
                                "jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=='Ready')].status}{\"\\n\"}{end}")
            var state: [String: String] = [:]
            for line in ready.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                state[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
            if state["web-1"] != nil { #expect(state["web-0"] == "True") }
            if state["web-2"] != nil { #expect(state["web-1"] == "True") }
            return try s.k("get", "sts", "web", "-o", "jsonpath={.status.readyReplicas}") == "3"
        }
        #expect(try s.k("exec", "web-0", "--", "hostname").trimmingCharacters(in: .whitespacesAndNewlines) == "web-0")
        #expect(try s.k("get", "pvc", "data-web-0", "-o", "jsonpath={.status.phase}") == "Bound")
        #expect(try s.k("get", "sc").contains("local-path (default)"))
        _ = try s.k("exec", "web-0", "--", "sh", "-c", "echo kept > /data/f")
        let uid = try s.k("get", "pod", "web-0", "-o", "jsonpath={.metadata.uid}")
        _ = try s.k("delete", "pod", "web-0")
        try s.eventually("web-0 back", timeout: 120) {
            let now = try s.kubectl(["get", "pod", "web-0", "-o", "jsonpath={.metadata.uid} {.status.conditions[?(@.type=='Ready')].status}"]).out
            return !now.hasPrefix(uid) && now.hasSuffix("True")
        }
        #expect(try s.k("exec", "web-0", "--", "cat", "/data/f") == "kept\n")

        _ = try s.k("scale", "sts", "web", "--replicas=2")
        try s.eventually("web-2 gone", timeout: 120) {
            try s.kubectl(["get", "pod", "web-2"]).status != 0
        }
        #expect(try s.kubectl(["get", "pod", "web-1"]).status == 0)
        #expect(try s.k("get", "pvc", "data-web-2", "-o", "jsonpath={.status.phase}") == "Bound")
        _ = try s.k("delete", "sts", "web")
        try s.eventually("pods gone", timeout: 120) { try Self.livePods(s, "app=sts").isEmpty }
    }

    /// A DaemonSet runs one pod on every node, placed by node affinity; `kubectl drain`
    /// skips it with --ignore-daemonsets and respects a PodDisruptionBudget.
    @Test func daemonSetRunsOnEveryNodeAndDrainRespectsABudget() throws {
        let (s, bridge) = try PodTests.agentServer()
        defer {
            _ = try? s.kubectl(["uncordon", "--all"])
            PodTests.shutdown(s, bridge: bridge)
        }
        let node = try s.k("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}")
        _ = try s.k("apply", "-f", "-", stdin: """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: agent}
        spec:
          selector: {matchLabels: {app: ds}}
          template:
            metadata: {labels: {app: ds}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: docker.io/library/busybox:1.35, command: [sh, -c, "trap 'exit 0' TERM; sleep 3600 & wait"]}]
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: guarded}
        spec:
          replicas: 2
          selector: {matchLabels: {app: guarded}}
          template:
            metadata: {labels: {app: guarded}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: docker.io/library/busybox:1.35, command: [sh, -c, "trap 'exit 0' TERM; sleep 3600 & wait"]}]
        ---
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: guard}
        spec:
          minAvailable: 2
          selector: {matchLabels: {app: guarded}}
        """)
        try s.eventually("daemon pod ready", timeout: 120) {
            try s.k("get", "ds", "agent", "-o", "jsonpath={.status.numberReady}/{.status.desiredNumberScheduled}") == "1/1"
        }
        let daemonPods = try Self.livePods(s, "app=ds")
        #expect(daemonPods.count == 1)
        let affinity = try s.k("get", "pod", daemonPods[0], "-o",
                               "jsonpath={.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}")
        #expect(affinity == node)
        #expect(try s.k("get", "pod", daemonPods[0], "-o", "jsonpath={.spec.nodeName}") == node)
        try s.eventually("budget computed", timeout: 120) {
            try s.k("get", "pdb", "guard", "-o", "jsonpath={.status.currentHealthy}/{.status.desiredHealthy}/{.status.disruptionsAllowed}") == "2/2/0"
        }
        #expect(try s.k("get", "pdb", "guard").contains("MIN AVAILABLE"))

        // The budget forbids any eviction: drain cordons the node, then gives up at its timeout.
        let blocked = try s.kubectl(["drain", node, "--ignore-daemonsets", "--timeout=8s"], timeout: 60)
        #expect(blocked.status != 0)
        #expect((blocked.out + blocked.err).contains("disruption budget"))
        #expect(try s.k("get", "node", node, "-o", "jsonpath={.spec.unschedulable}") == "true")
        #expect(try Self.livePods(s, "app=guarded").count == 2)

        // Relaxed, drain evicts the guarded pods and leaves the daemon pod.
        _ = try s.k("patch", "pdb", "guard", "--type=merge", "-p", #"{"spec":{"minAvailable":0}}"#)
        try s.eventually("budget relaxed", timeout: 60) {
            try s.k("get", "pdb", "guard", "-o", "jsonpath={.status.disruptionsAllowed}") == "2"
        }
        let drained = try s.kubectl(["drain", node, "--ignore-daemonsets", "--timeout=90s"], timeout: 120)
        #expect(drained.status == 0, "\(drained)")
        #expect((drained.out + drained.err).contains("evicting pod"))
        #expect(try Self.livePods(s, "app=ds").count == 1)
        _ = try s.k("uncordon", node)
    }
}
