import Foundation
import OrcaClient
import OrcaControllers
import Testing

@Suite struct ControllerManagerTests {
    /// Leadership lost and won back: the controllers stop, then run again on the same queues and
    /// informers (the informers resync), and still reconcile.
    @Test func controllersWorkAgainAfterLeadershipIsLostAndRegained() async throws {
        let c = try await ControllerTestCluster()
        var config = LeaderElector.Configuration(name: "manager", identity: "me")
        config.namespace = "default"
        let elector = LeaderElector(client: c.client, configuration: config, clock: c.clock)
        let rs = await ReplicaSetController<ReplicaSet>.controller(client: c.client, informers: c.informers, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [rs], elector: elector)
        let run = Task { await manager.run() }
        // Time moves on its own here: a second per few milliseconds.
        let ticker = Task {
            while !Task.isCancelled {
                c.clock.advance(by: .seconds(1))
                try? await Task.sleep(for: .milliseconds(3))
            }
        }
        defer { run.cancel(); ticker.cancel() }
        try await c.client.create(ReplicaSet(metadata: ObjectMeta(name: "web", namespace: "default"), spec: ReplicaSetSpec(
            replicas: 1, selector: LabelSelector(matchLabels: ["app": "web"]),
            template: PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web"]),
                                      spec: PodSpec(containers: [Container(image: "busybox", name: "c")])))))
        #expect(try await eventually { try await c.client.list(Pod.self, namespace: "default").count == 1 })

        let firstTerm = try await c.client.get(Lease.self, namespace: "default", name: "manager").spec?.acquireTime
        // Another candidate takes the lease (and keeps renewing it for a while).
        let thief = Task {
            while !Task.isCancelled {
                if var lease = try? await c.client.get(Lease.self, namespace: "default", name: "manager") {
                    lease.spec?.holderIdentity = "thief"
                    lease.spec?.renewTime = KubernetesTime.microString(c.clock.now)
                    _ = try? await c.client.update(lease)
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        thief.cancel()
        _ = await thief.value
        // The thief stopped renewing: its lease expires and "me" leads again.
        #expect(try await eventually {
            try await c.client.get(Lease.self, namespace: "default", name: "manager").spec?.holderIdentity == "me"
        })
        // A new term: taken back from the thief, so acquired again and counted as a transition.
        let lease = try await c.client.get(Lease.self, namespace: "default", name: "manager")
        #expect(lease.spec?.leaseTransitions == 1 && lease.spec?.acquireTime != firstTerm)
        // And its controllers reconcile again.
        try await c.client.mergePatch(ReplicaSet.self, namespace: "default", name: "web", patch: ["spec": ["replicas": 3]])
        #expect(try await eventually { try await c.client.list(Pod.self, namespace: "default").count == 3 })
    }
}
