import Foundation
import OrcaClient
import OrcaControllers
import Testing

@Suite struct LeaderElectorTests {
    func elector(_ c: ControllerTestCluster, _ identity: String) -> LeaderElector {
        var config = LeaderElector.Configuration(name: "test-manager", identity: identity)
        config.namespace = "default"
        return LeaderElector(client: c.client, configuration: config, clock: c.clock)
    }

    @Test func oneCandidateLeadsAndAnotherTakesOverOnlyAfterTheLeaseExpires() async throws {
        let c = try await ControllerTestCluster()
        let a = elector(c, "a"), b = elector(c, "b")
        #expect(try await a.tryAcquireOrRenew())
        #expect(try await !b.tryAcquireOrRenew())
        c.clock.advance(by: .seconds(10))
        #expect(try await a.tryAcquireOrRenew())   // renewed
        #expect(try await !b.tryAcquireOrRenew())  // b sees the renewal now: its 15 s start here
        c.clock.advance(by: .seconds(14))
        #expect(try await !b.tryAcquireOrRenew())  // 14 s since the renewal: still held
        c.clock.advance(by: .seconds(2))
        #expect(try await b.tryAcquireOrRenew())   // expired: taken over
        let lease = try await c.client.get(Lease.self, namespace: "default", name: "test-manager")
        #expect(lease.spec?.holderIdentity == "b")
        #expect(lease.spec?.leaseTransitions == 1)
        #expect(try await !a.tryAcquireOrRenew())
    }

    @Test func expiryIsJudgedOnTheCandidatesOwnClockNotTheHoldersTimestamps() async throws {
        let c = try await ControllerTestCluster()
        let a = elector(c, "a"), b = elector(c, "b")
        #expect(try await a.tryAcquireOrRenew())
        // The holder's renewTime is far in the past (its clock is skewed): b still waits a full
        // lease duration from when it first saw the record.
        var lease = try await c.client.get(Lease.self, namespace: "default", name: "test-manager")
        lease.spec?.renewTime = KubernetesTime.microString(c.clock.now.addingTimeInterval(-3600))
        try await c.client.update(lease)
        #expect(try await !b.tryAcquireOrRenew())
        c.clock.advance(by: .seconds(14))
        #expect(try await !b.tryAcquireOrRenew())
        c.clock.advance(by: .seconds(2))
        #expect(try await b.tryAcquireOrRenew())
    }

    @Test func runLeadsUntilCancelledThenReleasesTheLease() async throws {
        let c = try await ControllerTestCluster()
        let a = elector(c, "a")
        let leading = Leading()
        let task = Task { await a.run { await leading.set(true); try? await Task.sleep(for: .seconds(3600)); await leading.set(false) } }
        #expect(await eventually { await leading.value })
        task.cancel()
        await task.value
        let lease = try await c.client.get(Lease.self, namespace: "default", name: "test-manager")
        #expect(lease.spec?.holderIdentity == nil)
        // Released: another candidate takes it at once.
        #expect(try await elector(c, "b").tryAcquireOrRenew())
    }
}

actor Leading {
    var value = false
    func set(_ v: Bool) { value = v }
}
