import Foundation
import Logging
import OrcaAPI

/// kube-apiserver's `--event-ttl` (1 h by default): an Event is removed an hour after it was
/// last written, so the events of long-lived namespaces — and those about cluster-scoped
/// objects, filed in `default` — do not pile up for ever. kube-apiserver gives each write an
/// etcd lease; here a pass every `interval` deletes (watchers see DELETED) the events whose
/// latest time — `lastTimestamp`, `eventTime`, `series.lastObservedTime` or creation — is older
/// than `ttl`. An event written again in the meantime is kept (the delete is conditional).
public struct EventExpiry: Sendable {
    /// Kubernetes' default `--event-ttl`.
    public static let defaultTTL: TimeInterval = 3600

    let registry: Registry
    let ttl: TimeInterval
    let interval: Duration
    let logger = Logger(label: "orca.event-ttl")

    public init(registry: Registry, ttl: TimeInterval = defaultTTL, interval: Duration = .seconds(60)) {
        self.registry = registry
        self.ttl = ttl
        self.interval = interval
    }

    public func run() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            do {
                let removed = try await expire(now: registry.clock())
                if removed > 0 { logger.debug("removed \(removed) expired events") }
            } catch {
                logger.warning("event expiry: \(error)")
            }
        }
    }

    /// One pass: deletes every event last written more than `ttl` before `now`; returns how many.
    @discardableResult
    func expire(now: Date) async throws -> Int {
        guard let events = registry.catalog.resource(group: "", version: "v1", resource: "events") else { return 0 }
        var options = ListOptions()
        options.limit = 500
        var removed = 0
        repeat {
            let page = try await registry.list(events, namespace: nil, options: options)
            for item in page["items"]?.arrayValue ?? [] {
                guard let written = Self.lastWritten(item), now.timeIntervalSince(written) > ttl,
                      let name = item.metadataName else { continue }
                var deletion = DeletionOptions()
                deletion.preconditionResourceVersion = item[path: ["metadata", "resourceVersion"]]?.stringValue
                do {
                    _ = try await registry.delete(events, namespace: item.metadataNamespace, name: name, options: deletion)
                    removed += 1
                } catch let e as APIError where e.code == 404 || e.code == 409 {
                    // Gone already, or written again since the list.
                }
            }
            options.continueToken = page[path: ["metadata", "continue"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while options.continueToken != nil
        return removed
    }

    /// The latest time an event records: its own times, its creation, and the server's time of
    /// each write in `managedFields` (an update that keeps the event's times still counts).
    static func lastWritten(_ event: JSONValue) -> Date? {
        var times = [event["lastTimestamp"], event["eventTime"], event[path: ["series", "lastObservedTime"]],
                     event[path: ["metadata", "creationTimestamp"]]]
        times += (event[path: ["metadata", "managedFields"]]?.arrayValue ?? []).map { $0["time"] }
        return times.compactMap { KubernetesTime.date($0?.stringValue) }.max()
    }
}
