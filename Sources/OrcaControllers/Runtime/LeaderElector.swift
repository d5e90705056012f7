import Foundation
import Logging
import OrcaClient
import Synchronization

/// Leader election on a `coordination.k8s.io/v1` Lease (client-go's leaderelection with
/// the Lease lock): a candidate takes the lease when it is free or expired, renews it every
/// `retryPeriod`, and stops leading (cancelling the leader's work) when it could not renew
/// within `renewDeadline`. Two servers sharing a store therefore never run the same
/// controllers at once.
public struct LeaderElector: Sendable {
    public struct Configuration: Sendable {
        /// The Lease, e.g. `kube-system/kube-controller-manager`.
        public var namespace = "kube-system"
        public var name: String
        /// This candidate's identity (`<host>_<uuid>`).
        public var identity: String
        public var leaseDuration: Duration = .seconds(15)
        public var renewDeadline: Duration = .seconds(10)
        public var retryPeriod: Duration = .seconds(2)

        public init(name: String, identity: String) {
            self.name = name
            self.identity = identity
        }
    }

    let client: any APIClient
    let configuration: Configuration
    let clock: any WallClock
    let logger: Logger
    /// The lease record last seen and when, on this candidate's clock: another holder's lease
    /// expires `leaseDuration` after this candidate last saw it change, so clock skew between
    /// servers cannot make two leaders (client-go's observedRecord/observedTime).
    let observed = ObservedLease()

    public init(client: any APIClient, configuration: Configuration, clock: any WallClock = SystemClock()) {
        self.client = client
        self.configuration = configuration
        self.clock = clock
        self.logger = Logger(label: "orca.leader-election.\(configuration.name)")
    }

    /// Campaigns until cancelled; whenever this candidate leads, runs `lead` (cancelled
    /// when leadership is lost, then campaigns again).
    public func run(lead: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            // Acquire.
            while !Task.isCancelled {
                if (try? await tryAcquireOrRenew()) == true { break }
                do { try await clock.sleep(for: configuration.retryPeriod) } catch { return }
            }
            if Task.isCancelled { return }
            logger.info("\(configuration.identity) became leader of \(configuration.namespace)/\(configuration.name)")
            // Lead while renewing; renewal failure for renewDeadline ends the leading task.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await lead() }
                group.addTask { await renewUntilLost() }
                _ = await group.next()
                group.cancelAll()
            }
            if Task.isCancelled {
                // Released from a task of its own: this one is cancelled, and its calls would be too.
                let elector = self
                await Task.detached { await elector.release() }.value
                return
            }
            logger.warning("\(configuration.identity) lost leadership of \(configuration.namespace)/\(configuration.name)")
        }
    }

    /// Renews every `retryPeriod`; returns when renewing failed for `renewDeadline`.
    func renewUntilLost() async {
        var lastRenew = clock.now
        while !Task.isCancelled {
            do { try await clock.sleep(for: configuration.retryPeriod) } catch { return }
            // One attempt may not outlast the renew deadline: a hung call must not keep this
            // candidate leading after the others may take the lease over.
            let deadline = lastRenew.addingTimeInterval(configuration.renewDeadline.timeInterval)
            let clock = self.clock
            let renewed = await withTaskGroup(of: Bool?.self) { group in
                group.addTask { (try? await tryAcquireOrRenew()) ?? false }
                group.addTask {
                    do { try await clock.sleep(until: deadline) } catch { return nil }
                    return false
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first ?? false
            }
            if renewed {
                lastRenew = clock.now
            } else if clock.now >= deadline {
                return
            }
        }
    }

    /// One attempt: create the Lease, renew it if ours, or take it over if expired.
    /// Returns whether this candidate holds the lease now.
    public func tryAcquireOrRenew() async throws -> Bool {
        let now = clock.now
        let nowText = KubernetesTime.microString(now)
        let durationSeconds = Int32(configuration.leaseDuration.timeInterval)
        let lease: Lease
        do {
            lease = try await client.get(Lease.self, namespace: configuration.namespace, name: configuration.name)
        } catch let e as APIError where e.isNotFound {
            let fresh = Lease(metadata: ObjectMeta(name: configuration.name, namespace: configuration.namespace),
                              spec: LeaseSpec(acquireTime: nowText, holderIdentity: configuration.identity,
                                              leaseDurationSeconds: durationSeconds, leaseTransitions: 0, renewTime: nowText))
            do { try await client.create(fresh) } catch let e as APIError where e.isAlreadyExists { return false }
            return true
        }
        var spec = lease.spec ?? LeaseSpec()
        let holder = spec.holderIdentity ?? ""
        let observedAt = observed.see(holder: holder, renewTime: spec.renewTime, at: now)
        if holder != configuration.identity, !holder.isEmpty {
            let duration = TimeInterval(spec.leaseDurationSeconds ?? durationSeconds)
            if now.timeIntervalSince(observedAt) < duration { return false }
        }
        if holder != configuration.identity {
            spec.acquireTime = nowText
            spec.leaseTransitions = (spec.leaseTransitions ?? 0).addingReportingOverflow(1).partialValue
        }
        spec.holderIdentity = configuration.identity
        spec.leaseDurationSeconds = durationSeconds
        spec.renewTime = nowText
        var updated = lease
        updated.spec = spec
        do { try await client.update(updated) } catch let e as APIError where e.code == 409 { return false }
        return true
    }

    /// Gives the lease up on shutdown so another candidate need not wait for it to expire.
    func release() async {
        guard var lease = try? await client.get(Lease.self, namespace: configuration.namespace, name: configuration.name),
              lease.spec?.holderIdentity == configuration.identity else { return }
        lease.spec?.holderIdentity = nil
        lease.spec?.renewTime = nil
        lease.spec?.acquireTime = nil
        _ = try? await client.update(lease)
    }
}

/// The Lease record a candidate last saw change, and when (on its own clock).
final class ObservedLease: Sendable {
    private let state = Mutex<(holder: String, renewTime: String?, at: Date)?>(nil)

    /// Records the record seen at `now`; returns when this record was first seen unchanged.
    func see(holder: String, renewTime: String?, at now: Date) -> Date {
        state.withLock { s in
            if let s, s.holder == holder, s.renewTime == renewTime { return s.at }
            s = (holder, renewTime, now)
            return now
        }
    }
}
