import Foundation
import OrcaClient
import OrcaControllers
import Testing

@Suite struct DeploymentControllerTests {
    // MARK: pure arithmetic

    struct Fencepost: Sendable, CustomStringConvertible {
        var maxSurge: IntOrString
        var maxUnavailable: IntOrString
        var desired: Int32
        var surge: Int32
        var unavailable: Int32
        var description: String { "\(maxSurge)/\(maxUnavailable) of \(desired) → \(surge)/\(unavailable)" }
    }

    static let fenceposts: [Fencepost] = [
        Fencepost(maxSurge: "25%", maxUnavailable: "25%", desired: 3, surge: 1, unavailable: 0),
        Fencepost(maxSurge: "25%", maxUnavailable: "25%", desired: 4, surge: 1, unavailable: 1),
        Fencepost(maxSurge: "25%", maxUnavailable: "25%", desired: 10, surge: 3, unavailable: 2),
        Fencepost(maxSurge: "25%", maxUnavailable: "25%", desired: 0, surge: 0, unavailable: 1),
        Fencepost(maxSurge: 0, maxUnavailable: 0, desired: 5, surge: 0, unavailable: 1),
        Fencepost(maxSurge: "0%", maxUnavailable: "0%", desired: 5, surge: 0, unavailable: 1),
        Fencepost(maxSurge: 2, maxUnavailable: "50%", desired: 5, surge: 2, unavailable: 2),
        Fencepost(maxSurge: "30%", maxUnavailable: 1, desired: 10, surge: 3, unavailable: 1),
        Fencepost(maxSurge: "1%", maxUnavailable: "1%", desired: 1, surge: 1, unavailable: 0),
        Fencepost(maxSurge: 0, maxUnavailable: "10%", desired: 5, surge: 0, unavailable: 1),
        Fencepost(maxSurge: "10%", maxUnavailable: 0, desired: 5, surge: 1, unavailable: 0),
        Fencepost(maxSurge: "100%", maxUnavailable: "100%", desired: 7, surge: 7, unavailable: 7),
    ]

    @Test(arguments: DeploymentControllerTests.fenceposts)
    func maxSurgeRoundsUpAndMaxUnavailableRoundsDown(_ f: Fencepost) {
        let resolved = RolloutMath.resolveFenceposts(maxSurge: f.maxSurge, maxUnavailable: f.maxUnavailable, desired: f.desired)
        #expect(resolved.maxSurge == f.surge)
        #expect(resolved.maxUnavailable == f.unavailable)
    }

    @Test func boundsOfADeployment() {
        var d = Self.deployment("web", replicas: 3)
        #expect(RolloutMath.maxSurge(d) == 1 && RolloutMath.maxUnavailable(d) == 0)
        d.spec?.strategy = DeploymentStrategy(rollingUpdate: RollingUpdateDeployment(maxSurge: 0, maxUnavailable: 10), type: "RollingUpdate")
        #expect(RolloutMath.maxUnavailable(d) == 3)
        d.spec?.strategy = DeploymentStrategy(type: "Recreate")
        #expect(RolloutMath.maxSurge(d) == 0 && RolloutMath.maxUnavailable(d) == 0)
        d.spec?.strategy = nil
        d.spec?.replicas = 0
        #expect(RolloutMath.maxUnavailable(d) == 0)
    }

    @Test func theNewReplicaSetGrowsWithinTheSurge() {
        let d = Self.deployment("web", replicas: 3)
        let old = Self.replicaSet("web-old", replicas: 3)
        let new = Self.replicaSet("web-new", replicas: 0)
        #expect(RolloutMath.newRSNewReplicas(d, allRSs: [old, new], newRS: new) == 1)
        let grown = Self.replicaSet("web-new", replicas: 1)
        #expect(RolloutMath.newRSNewReplicas(d, allRSs: [old, grown], newRS: grown) == 1)
        let shrunk = Self.replicaSet("web-old", replicas: 2)
        #expect(RolloutMath.newRSNewReplicas(d, allRSs: [shrunk, grown], newRS: grown) == 2)
        var recreate = d
        recreate.spec?.strategy = DeploymentStrategy(type: "Recreate")
        #expect(RolloutMath.newRSNewReplicas(recreate, allRSs: [old, new], newRS: new) == 3)
    }

    @Test func oldReplicaSetsShrinkOnlyAsNewPodsBecomeAvailable() {
        let d = Self.deployment("web", replicas: 3)
        let old = Self.replicaSet("web-old", replicas: 3, available: 3)
        var new = Self.replicaSet("web-new", replicas: 1, available: 0)
        #expect(RolloutMath.maxScaledDown(d, allRSs: [old, new], newRS: new) == 0)
        new = Self.replicaSet("web-new", replicas: 1, available: 1)
        #expect(RolloutMath.maxScaledDown(d, allRSs: [old, new], newRS: new) == 1)
        #expect(RolloutMath.unhealthyCleanup(oldRSs: [old], maxCleanupCount: 1) == [3])
        #expect(RolloutMath.rollingScaleDown(d, allRSs: [old, new], oldRSs: [old]) == [2])
        let unhealthy = Self.replicaSet("web-old", replicas: 3, available: 1)
        #expect(RolloutMath.unhealthyCleanup(oldRSs: [unhealthy], maxCleanupCount: 1) == [2])
        let stale = Self.replicaSet("web-old", replicas: 2, available: 3)
        #expect(RolloutMath.unhealthyCleanup(oldRSs: [stale], maxCleanupCount: 1) == nil)
    }

    @Test func aResizeMidRolloutIsSharedInProportion() {
        var d = Self.deployment("web", replicas: 20)
        let old = Self.replicaSet("web-old", replicas: 8, maxReplicas: 13, created: 0)
        let new = Self.replicaSet("web-new", replicas: 5, maxReplicas: 13, created: 60)
        let up = RolloutMath.proportionalScale(d, activeRSs: [new, old])
        #expect(up.map { $0.replicaSet.metadata?.name ?? "" } == ["web-old", "web-new"])
        #expect(up.map(\.replicas) == [15, 10])
        d.spec?.replicas = 5
        let down = RolloutMath.proportionalScale(d, activeRSs: [new, old])
        #expect(down.map(\.replicas) == [4, 3])
    }

    @Test func podTemplateHashIsFNV1aRenderedInTheSafeAlphabet() {
        #expect(SafeHash.fnv1a32(Array("".utf8)) == 0x811c_9dc5)
        #expect(SafeHash.fnv1a32(Array("a".utf8)) == 0xe40c_292c)
        #expect(SafeHash.fnv1a32(Array("foobar".utf8)) == 0xbf9c_f968)
        #expect(SafeHash.safeEncode("0123456789") == "456789bcdf")
        let template = Self.deployment("web", replicas: 1).spec?.template
        let hash = PodTemplateHash.compute(template, collisionCount: nil)
        #expect(hash == PodTemplateHash.compute(template, collisionCount: nil))
        #expect(!hash.isEmpty && hash.allSatisfy { SafeHash.alphabet.contains($0) })
        #expect(hash != PodTemplateHash.compute(template, collisionCount: 1))
        #expect(PodTemplateHash.compute(template, collisionCount: 1) != PodTemplateHash.compute(template, collisionCount: 2))
        var other = template
        other?.spec?.containers?[0].image = "busybox:2"
        #expect(hash != PodTemplateHash.compute(other, collisionCount: nil))
        var labeled = template
        labeled?.metadata?.labels?[PodTemplateHash.label] = hash
        #expect(PodTemplateHash.equalIgnoringHash(template, labeled))
        #expect(!PodTemplateHash.equalIgnoringHash(template, other))
    }

    // MARK: the controller on a registry

    @Test func aDeploymentGetsOneReplicaSetAndRollsToANewTemplate() async throws {
        let c = try await ControllerTestCluster()
        let run = await Self.start(c)
        defer { run.cancel() }
        try await c.client.create(Self.deployment("web", replicas: 3))

        var first = ReplicaSet()
        #expect(try await Self.waitFor(c) {
            let sets = try await Self.replicaSets(c, "web")
            guard sets.count == 1 else { return false }
            first = sets[0]
            return true
        })
        let firstName = first.metadata?.name ?? ""
        let hash = first.metadata?.labels?[PodTemplateHash.label] ?? ""
        #expect(firstName == "web-\(hash)" && !hash.isEmpty)
        #expect(first.spec?.replicas == 3)
        #expect(first.spec?.selector?.matchLabels?[PodTemplateHash.label] == hash)
        #expect(first.spec?.template?.metadata?.labels?[PodTemplateHash.label] == hash)
        #expect(first.metadata?.annotations?[DeploymentAnnotations.revision] == "1")
        #expect(first.metadata?.annotations?[DeploymentAnnotations.desiredReplicas] == "3")
        #expect(first.metadata?.annotations?[DeploymentAnnotations.maxReplicas] == "4")
        #expect(first.metadata?.ownerReferences?.first?.controller == true)
        #expect(try await Self.waitFor(c) {
            let d = try await c.client.get(Deployment.self, namespace: "default", name: "web")
            return d.metadata?.annotations?[DeploymentAnnotations.revision] == "1"
                && DeploymentConditions.get(d.status, "Progressing")?.message == "Created new replica set \"\(firstName)\""
        })
        #expect(try await Self.waitFor(c) { try await Self.hasEvent(c, "Scaled up replica set \(firstName) from 0 to 3") })

        try await Self.setStatus(c, firstName, replicas: 3, available: 3)
        #expect(try await Self.waitFor(c) {
            let d = try await c.client.get(Deployment.self, namespace: "default", name: "web")
            let progressing = DeploymentConditions.get(d.status, "Progressing")
            let available = DeploymentConditions.get(d.status, "Available")
            return d.status?.availableReplicas == 3 && d.status?.updatedReplicas == 3 && d.status?.unavailableReplicas == 0
                && progressing?.reason == "NewReplicaSetAvailable"
                && progressing?.message == "ReplicaSet \"\(firstName)\" has successfully progressed."
                && available?.status == "True" && available?.message == "Deployment has minimum availability."
        })

        // A new image: the new replica set surges by one; the old keeps 3 (maxUnavailable 0).
        try await Self.patchImage(c, "web", "busybox:2")
        var second = ReplicaSet()
        #expect(try await Self.waitFor(c) {
            guard let s = try await Self.replicaSets(c, "web").first(where: { $0.metadata?.name != firstName }) else { return false }
            second = s
            return s.spec?.replicas == 1
        })
        let secondName = second.metadata?.name ?? ""
        #expect(second.metadata?.annotations?[DeploymentAnnotations.revision] == "2")
        #expect(try await c.client.get(ReplicaSet.self, namespace: "default", name: firstName).spec?.replicas == 3)

        // Once the new pod is available, one old goes, then one more new comes.
        try await Self.setStatus(c, secondName, replicas: 1, available: 1)
        #expect(try await Self.waitFor(c) {
            let old = try await c.client.get(ReplicaSet.self, namespace: "default", name: firstName)
            let new = try await c.client.get(ReplicaSet.self, namespace: "default", name: secondName)
            return old.spec?.replicas == 2 && new.spec?.replicas == 2
        })
        #expect(try await Self.waitFor(c) { try await Self.hasEvent(c, "Scaled down replica set \(firstName) from 3 to 2") })
        #expect(try await Self.waitFor(c) { try await Self.hasEvent(c, "Scaled up replica set \(secondName) from 1 to 2") })
    }

    @Test func recreateScalesTheOldReplicaSetToZeroBeforeCreatingTheNew() async throws {
        let c = try await ControllerTestCluster()
        let run = await Self.start(c)
        defer { run.cancel() }
        try await c.client.create(Self.deployment("db", replicas: 2, strategy: DeploymentStrategy(type: "Recreate")))
        var oldName = ""
        #expect(try await Self.waitFor(c) {
            guard let rs = try await Self.replicaSets(c, "db").first, rs.spec?.replicas == 2 else { return false }
            oldName = rs.metadata?.name ?? ""
            return true
        })
        try await Self.setStatus(c, oldName, replicas: 2, available: 2)
        try await Self.patchImage(c, "db", "busybox:2")
        #expect(try await Self.waitFor(c) {
            try await c.client.get(ReplicaSet.self, namespace: "default", name: oldName).spec?.replicas == 0
        })
        // Its pods still run (status.replicas 2): nothing new yet.
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await Self.replicaSets(c, "db").count == 1)

        try await Self.setStatus(c, oldName, replicas: 0, available: 0)
        #expect(try await Self.waitFor(c) {
            let new = try await Self.replicaSets(c, "db").first { $0.metadata?.name != oldName }
            return new?.spec?.replicas == 2 && new?.metadata?.annotations?[DeploymentAnnotations.revision] == "2"
        })
        #expect(try await Self.waitFor(c) { try await Self.hasEvent(c, "Scaled down replica set \(oldName) from 2 to 0") })
    }

    @Test func anOldTemplateComingBackReusesItsReplicaSetWithANewRevision() async throws {
        let c = try await ControllerTestCluster()
        let run = await Self.start(c)
        defer { run.cancel() }
        try await c.client.create(Self.deployment("api", replicas: 2))
        var firstName = ""
        #expect(try await Self.waitFor(c) {
            firstName = try await Self.replicaSets(c, "api").first?.metadata?.name ?? ""
            return !firstName.isEmpty
        })
        try await Self.patchImage(c, "api", "busybox:2")
        #expect(try await Self.waitFor(c) { try await Self.replicaSets(c, "api").count == 2 })
        try await Self.patchImage(c, "api", "busybox:1")  // what `kubectl rollout undo` does
        #expect(try await Self.waitFor(c) {
            let rs = try await c.client.get(ReplicaSet.self, namespace: "default", name: firstName)
            let d = try await c.client.get(Deployment.self, namespace: "default", name: "api")
            return rs.metadata?.annotations?[DeploymentAnnotations.revision] == "3"
                && rs.metadata?.annotations?[DeploymentAnnotations.revisionHistory] == "1"
                && d.metadata?.annotations?[DeploymentAnnotations.revision] == "3"
        })
        #expect(try await Self.replicaSets(c, "api").count == 2)
    }

    @Test func replicaSetsBeyondTheHistoryLimitAreDeleted() async throws {
        let c = try await ControllerTestCluster()
        let run = await Self.start(c)
        defer { run.cancel() }
        var d = Self.deployment("batch", replicas: 1, strategy: DeploymentStrategy(type: "Recreate"))
        d.spec?.revisionHistoryLimit = 0
        try await c.client.create(d)
        var oldName = ""
        #expect(try await Self.waitFor(c) {
            oldName = try await Self.replicaSets(c, "batch").first?.metadata?.name ?? ""
            return !oldName.isEmpty
        })
        try await Self.setStatus(c, oldName, replicas: 1, available: 1)
        try await Self.patchImage(c, "batch", "busybox:2")
        #expect(try await Self.waitFor(c) {
            try await c.client.get(ReplicaSet.self, namespace: "default", name: oldName).spec?.replicas == 0
        })
        let generation = try await c.client.get(ReplicaSet.self, namespace: "default", name: oldName).metadata?.generation ?? 1
        try await Self.setStatus(c, oldName, replicas: 0, available: 0, observedGeneration: generation)
        var newName = ""
        #expect(try await Self.waitFor(c) {
            newName = try await Self.replicaSets(c, "batch").first { $0.metadata?.name != oldName }?.metadata?.name ?? ""
            return !newName.isEmpty
        })
        try await Self.setStatus(c, newName, replicas: 1, available: 1)
        #expect(try await Self.waitFor(c) {
            try await Self.replicaSets(c, "batch").map { $0.metadata?.name ?? "" } == [newName]
        })
    }

    @Test func aPausedDeploymentResizesButDoesNotRollOut() async throws {
        let c = try await ControllerTestCluster()
        let run = await Self.start(c)
        defer { run.cancel() }
        try await c.client.create(Self.deployment("cache", replicas: 2))
        var name = ""
        #expect(try await Self.waitFor(c) {
            name = try await Self.replicaSets(c, "cache").first?.metadata?.name ?? ""
            return !name.isEmpty
        })
        try await c.client.mergePatch(Deployment.self, namespace: "default", name: "cache", patch: [
            "spec": ["paused": true, "replicas": 4,
                     "template": ["spec": ["containers": [["name": "c", "image": "busybox:2"]]]]],
        ])
        #expect(try await Self.waitFor(c) {
            let d = try await c.client.get(Deployment.self, namespace: "default", name: "cache")
            let progressing = DeploymentConditions.get(d.status, "Progressing")
            let rs = try await c.client.get(ReplicaSet.self, namespace: "default", name: name)
            return progressing?.reason == "DeploymentPaused" && progressing?.status == "Unknown"
                && progressing?.message == "Deployment is paused" && rs.spec?.replicas == 4
                && rs.metadata?.annotations?[DeploymentAnnotations.desiredReplicas] == "4"
        })
        #expect(try await Self.replicaSets(c, "cache").count == 1)
        try await c.client.mergePatch(Deployment.self, namespace: "default", name: "cache", patch: ["spec": ["paused": false]])
        #expect(try await Self.waitFor(c) { try await Self.replicaSets(c, "cache").count == 2 })
    }

    @Test func orphansAreAdoptedAndReleased() async throws {
        let c = try await ControllerTestCluster()
        let run = await Self.start(c)
        defer { run.cancel() }
        let template = Self.deployment("legacy", replicas: 1).spec?.template
        try await c.client.create(ReplicaSet(
            metadata: ObjectMeta(labels: ["app": "legacy"], name: "legacy", namespace: "default"),
            spec: ReplicaSetSpec(replicas: 1, selector: LabelSelector(matchLabels: ["app": "legacy"]), template: template)))
        try await c.client.create(Self.deployment("legacy", replicas: 1))
        let uid = try await c.client.get(Deployment.self, namespace: "default", name: "legacy").metadata?.uid
        #expect(try await Self.waitFor(c) {
            let ref = try await c.client.get(ReplicaSet.self, namespace: "default", name: "legacy").metadata?.controllerRef
            return ref?.uid == uid && ref?.kind == "Deployment" && ref?.blockOwnerDeletion == true
        })
        try await c.client.mergePatch(ReplicaSet.self, namespace: "default", name: "legacy",
                                      patch: ["metadata": ["labels": ["app": "other"]]])
        #expect(try await Self.waitFor(c) {
            try await c.client.get(ReplicaSet.self, namespace: "default", name: "legacy").metadata?.controllerRef == nil
        })
    }
}

extension DeploymentControllerTests {
    static func deployment(_ name: String, replicas: Int32, image: String = "busybox:1",
                           strategy: DeploymentStrategy? = nil) -> Deployment {
        Deployment(metadata: ObjectMeta(name: name, namespace: "default"),
                   spec: DeploymentSpec(replicas: replicas, selector: LabelSelector(matchLabels: ["app": name]), strategy: strategy,
                                        template: PodTemplateSpec(metadata: ObjectMeta(labels: ["app": name]),
                                                                  spec: PodSpec(containers: [Container(image: image, name: "c")]))))
    }

    static func replicaSet(_ name: String, replicas: Int32, available: Int32 = 0, maxReplicas: Int32? = nil,
                           created: TimeInterval = 0) -> ReplicaSet {
        ReplicaSet(metadata: ObjectMeta(annotations: maxReplicas.map { [DeploymentAnnotations.maxReplicas: String($0)] },
                                        creationTimestamp: KubernetesTime.string(Date(timeIntervalSince1970: 1_700_000_000 + created)),
                                        name: name, namespace: "default", uid: "uid-\(name)"),
                   spec: ReplicaSetSpec(replicas: replicas),
                   status: ReplicaSetStatus(availableReplicas: available, readyReplicas: available, replicas: replicas))
    }

    /// Runs the deployment controller on `c` until the returned task is cancelled.
    static func start(_ c: ControllerTestCluster) async -> Task<Void, Never> {
        let controller = await DeploymentController.controller(client: c.client, informers: c.informers, clock: c.clock)
        let manager = ControllerManager(name: "test", informers: c.informers, runnables: [controller])
        return Task { await manager.run() }
    }

    /// Polls `condition`, moving the manual clock a little each time so back-offs fire.
    static func waitFor(_ c: ControllerTestCluster, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<2000 {
            if try await condition() { return true }
            c.clock.advance(by: .milliseconds(10))
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// The replica sets controlled by the deployment `name`.
    static func replicaSets(_ c: ControllerTestCluster, _ name: String) async throws -> [ReplicaSet] {
        try await c.client.list(ReplicaSet.self, namespace: "default")
            .filter { $0.metadata?.controllerRef?.kind == "Deployment" && $0.metadata?.controllerRef?.name == name }
            .sorted { ($0.metadata?.name ?? "") < ($1.metadata?.name ?? "") }
    }

    /// Sets a replica set's status by hand, as its controller would.
    static func setStatus(_ c: ControllerTestCluster, _ name: String, replicas: Int32, available: Int32,
                          observedGeneration: Int64? = nil) async throws {
        let status = ReplicaSetStatus(availableReplicas: available, fullyLabeledReplicas: replicas,
                                      observedGeneration: observedGeneration, readyReplicas: available, replicas: replicas)
        let encoded = try JSONValue(encoding: status)
        try await c.client.mergePatch(ReplicaSet.self, namespace: "default", name: name,
                                      patch: ["status": encoded], subresource: "status")
    }

    static func patchImage(_ c: ControllerTestCluster, _ name: String, _ image: String) async throws {
        try await c.client.mergePatch(Deployment.self, namespace: "default", name: name, patch: [
            "spec": ["template": ["spec": ["containers": [["name": "c", "image": .string(image)]]]]],
        ])
    }

    static func hasEvent(_ c: ControllerTestCluster, _ message: String) async throws -> Bool {
        try await c.client.list(Event.self, namespace: "default").contains { $0.message == message && $0.reason == "ScalingReplicaSet" }
    }
}
