import Foundation
import OrcaClient
import Synchronization

/// The EndpointSlices a controller wrote, by Service, and the revision each was left at
/// (the endpointslice `EndpointSliceTracker`). It tells a reconcile whether the informer
/// cache shows the controller's own latest writes yet: acting on a cache that lacks a slice
/// just created would create a second slice with the same endpoints. And it tells the slice
/// event handlers which events are echoes of the controller's own writes (no sync needed)
/// and which come from someone else (the Service is synced again).
///
/// A Service whose reconcile found the cache stale is marked waiting; the next event of one
/// of its slices queues it again, so a stale cache costs no back-off. Expectations expire
/// after `timeout`, so a lost event cannot wedge a Service.
final class EndpointSliceTracker: Sendable {
    /// How long an expectation is trusted.
    static let timeout: TimeInterval = 60

    struct Expectation {
        /// The revision written, or nil when the slice is expected to be deleted.
        var revision: Int64?
        var at: Date
    }

    struct State {
        /// Service key → slice UID → expectation.
        var services: [String: [String: Expectation]] = [:]
        var waiting: Set<String> = []

        /// Removes one slice's expectation, and the Service's entry with its last one, so
        /// deleted Services leave nothing behind.
        mutating func remove(_ uid: String, service: String) -> Expectation? {
            guard var expected = services[service], let e = expected.removeValue(forKey: uid) else { return nil }
            services[service] = expected.isEmpty ? nil : expected
            return e
        }
    }

    let clock: any WallClock
    private let state = Mutex(State())

    init(clock: any WallClock) {
        self.clock = clock
    }

    /// Records a slice the controller created or updated for `service`.
    func update(_ slice: EndpointSlice, service: String) {
        guard let uid = slice.metadata?.uid else { return }
        let now = clock.now
        state.withLock { $0.services[service, default: [:]][uid] = Expectation(revision: slice.revision, at: now) }
    }

    /// Records a slice the controller deleted.
    func expectDeletion(_ slice: EndpointSlice, service: String) {
        guard let uid = slice.metadata?.uid else { return }
        let now = clock.now
        state.withLock { $0.services[service, default: [:]][uid] = Expectation(revision: nil, at: now) }
    }

    /// Forgets a slice that left the controller's care (relabelled to another Service or manager).
    func forget(_ slice: EndpointSlice, service: String) {
        guard let uid = slice.metadata?.uid else { return }
        state.withLock { _ = $0.remove(uid, service: service) }
    }

    /// Forgets a Service (deleted, or no longer the controller's).
    func deleteService(_ service: String) {
        state.withLock { s in
            s.services[service] = nil
            s.waiting.remove(service)
        }
    }

    /// Whether the cached `slices` of `service` lack one of the controller's writes
    /// (`StaleSlices`): a slice written at a newer revision than cached, a slice created but
    /// not cached yet, or a slice deleted but still cached. Marks the Service waiting if so.
    func isStale(_ service: String, slices: [EndpointSlice]) -> Bool {
        let now = clock.now
        return state.withLock { s in
            guard var expected = s.services[service] else {
                s.waiting.remove(service)
                return false
            }
            expected = expected.filter { now.timeIntervalSince($0.value.at) <= Self.timeout }
            s.services[service] = expected.isEmpty ? nil : expected
            var cached: Set<String> = []
            var stale = false
            for slice in slices {
                guard let uid = slice.metadata?.uid else { continue }
                cached.insert(uid)
                guard let e = expected[uid] else { continue }
                // Expected gone, or written at a newer revision than cached.
                if (e.revision ?? .max) > slice.revision { stale = true }
            }
            for (uid, e) in expected where e.revision != nil && !cached.contains(uid) { stale = true }
            if stale { s.waiting.insert(service) } else { s.waiting.remove(service) }
            return stale
        }
    }

    /// Whether an added or updated slice of `service` is news to the controller (`ShouldSync`):
    /// not one it wrote, or changed since it wrote it. Also true when the Service is waiting
    /// for its cache to catch up.
    func shouldSync(_ slice: EndpointSlice, service: String) -> Bool {
        state.withLock { s in
            if s.waiting.contains(service) { return true }
            guard let uid = slice.metadata?.uid, let e = s.services[service]?[uid], let revision = e.revision else { return true }
            return slice.revision > revision
        }
    }

    /// The Services with expectations (for tests).
    var trackedServiceCount: Int { state.withLock { $0.services.count } }

    /// Handles a deleted slice of `service` (`HandleDeletion`); true when the Service must be
    /// synced: the deletion was not the controller's (a slice it did not write counts as not
    /// its deletion, so a slice deleted behind its back is made again), or the Service waits
    /// for its cache.
    func handleDeletion(_ slice: EndpointSlice, service: String) -> Bool {
        state.withLock { s in
            guard let uid = slice.metadata?.uid, let e = s.remove(uid, service: service) else { return true }
            return s.waiting.contains(service) || e.revision != nil
        }
    }
}
