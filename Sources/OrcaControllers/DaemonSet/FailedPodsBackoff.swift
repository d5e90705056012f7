import Foundation
import OrcaClient
import Synchronization

/// Per-node back-off for replacing failed daemon pods (the DaemonSet controller's
/// `failedPodsBackoff`, a client-go `flowcontrol.Backoff` from 1 s doubling to 15 min): a
/// kubelet that keeps rejecting a pod must not make the controller delete and recreate it
/// in a hot loop. An entry quiet for twice the maximum starts over.
final class FailedPodsBackoff: Sendable {
    struct Entry {
        var backoff: TimeInterval
        var lastUpdate: Date
    }

    let initial: TimeInterval
    let maximum: TimeInterval
    private let entries = Mutex<[String: Entry]>([:])

    init(initial: TimeInterval = 1, maximum: TimeInterval = 15 * 60) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The key of one DaemonSet generation on one node (`failedPodsBackoffKey`).
    static func key(_ ds: DaemonSet, node: String) -> String {
        "\(ds.metadata?.uid ?? "")/\(ds.status?.observedGeneration ?? 0)/\(node)"
    }

    func hasExpired(_ entry: Entry, now: Date) -> Bool {
        now.timeIntervalSince(entry.lastUpdate) > maximum * 2
    }

    /// Whether `key` is still waiting out its back-off since its last failure (`IsInBackOffSinceUpdate`).
    func isInBackOff(_ key: String, now: Date) -> Bool {
        entries.withLock { e in
            guard let entry = e[key], !hasExpired(entry, now: now) else { return false }
            return now.timeIntervalSince(entry.lastUpdate) < entry.backoff
        }
    }

    /// The current back-off of `key` (`Get`).
    func delay(_ key: String) -> Duration {
        .seconds(entries.withLock { $0[key]?.backoff ?? 0 })
    }

    /// Records a failure of `key` now: the back-off starts at `initial` or doubles (`Next`);
    /// entries that expired are dropped on the way.
    func next(_ key: String, now: Date) {
        entries.withLock { e in
            e = e.filter { !hasExpired($0.value, now: now) || $0.key == key }
            if let entry = e[key], !hasExpired(entry, now: now) {
                e[key] = Entry(backoff: min(entry.backoff * 2, maximum), lastUpdate: now)
            } else {
                e[key] = Entry(backoff: initial, lastUpdate: now)
            }
        }
    }
}
