import Foundation

/// Records core/v1 Events about objects, as `kubectl describe` shows them; repeats of
/// the same event within the hour bump `count` and `lastTimestamp` instead of adding one.
public struct EventRecorder: Sendable {
    let client: any APIClient
    let component: String
    let host: String?
    let clock: @Sendable () -> Date
    /// When set, events are queued and sent by the broadcaster's task: recording never waits.
    let broadcaster: EventBroadcaster?

    public init(client: any APIClient, component: String, host: String? = nil, clock: @escaping @Sendable () -> Date = { Date() },
                broadcaster: EventBroadcaster? = nil) {
        self.client = client
        self.component = component
        self.host = host
        self.clock = clock
        self.broadcaster = broadcaster
    }

    /// Records an event; failures are logged away (events are best effort, as in Kubernetes).
    /// With a broadcaster it is queued (with its time of recording) and this returns at once.
    public func record(_ object: JSONValue, type: String, reason: String, message: String, fieldPath: String? = nil) async {
        guard let broadcaster else {
            await send(object, type: type, reason: reason, message: message, fieldPath: fieldPath, at: clock())
            return
        }
        let recordedAt = clock()
        // Only the reference waits in the queue, not the whole object (a pod with its status).
        let reference = Self.reference(to: object)
        broadcaster.enqueue { [self] in
            await send(reference, type: type, reason: reason, message: message, fieldPath: fieldPath, at: recordedAt)
        }
    }

    /// What an event keeps of its object: kind, apiVersion, name, namespace, uid and
    /// resourceVersion (an `ObjectReference`'s fields).
    static func reference(to object: JSONValue) -> JSONValue {
        var meta: JSONValue = [:]
        for key in ["name", "namespace", "uid", "resourceVersion"] {
            if let value = object[path: ["metadata", key]] { meta[key] = value }
        }
        var reference: JSONValue = ["metadata": meta]
        if let kind = object["kind"] { reference["kind"] = kind }
        if let apiVersion = object["apiVersion"] { reference["apiVersion"] = apiVersion }
        return reference
    }

    func send(_ object: JSONValue, type: String, reason: String, message: String, fieldPath: String?, at time: Date) async {
        let ns = object.metadataNamespace ?? "default"
        let name = object.metadataName ?? ""
        let events = client.resource("events")
        let now = KubernetesTime.string(time)
        // Deterministic name per (object, reason, message) so repeats aggregate.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "\(object.metadataUID ?? name)|\(reason)|\(message)|\(fieldPath ?? "")".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let eventName = "\(name).\(String(h, radix: 16))"
        var involved: JSONValue = ["kind": object["kind"] ?? "", "namespace": .string(ns), "name": .string(name),
                                   "uid": .string(object.metadataUID ?? ""), "apiVersion": object["apiVersion"] ?? "v1",
                                   "resourceVersion": .string(object.resourceVersion ?? "")]
        if let fieldPath { involved["fieldPath"] = .string(fieldPath) }
        var source: JSONValue = ["component": .string(component)]
        if let host { source["host"] = .string(host) }
        let event: JSONValue = [
            "metadata": ["name": .string(eventName), "namespace": .string(ns)],
            "involvedObject": involved, "reason": .string(reason), "message": .string(message),
            "type": .string(type), "count": 1, "firstTimestamp": .string(now), "lastTimestamp": .string(now),
            "eventTime": .null, "source": source, "reportingComponent": .string(component),
            "reportingInstance": .string(host ?? component),
        ]
        // Create first (the common case: one call); a repeat bumps the count of the existing one.
        do {
            _ = try await client.create(events, namespace: ns, object: event)
        } catch let e as APIError where e.isAlreadyExists {
            guard let existing = try? await client.get(events, namespace: ns, name: eventName) else { return }
            let count = (existing["count"]?.intValue ?? 1).addingSaturating(1)
            _ = try? await client.mergePatch(events, namespace: ns, name: eventName,
                                             patch: ["count": .int(count), "lastTimestamp": .string(now)], subresource: nil)
        } catch {}
    }

}

extension EventRecorder {
    /// Records an event about a typed object.
    public func record<Object: KubernetesObject>(_ object: Object, type: String, reason: String, message: String,
                                                 fieldPath: String? = nil) async {
        var meta: JSONValue = ["name": .string(object.metadata?.name ?? "")]
        if let ns = object.metadata?.namespace { meta["namespace"] = .string(ns) }
        if let uid = object.metadata?.uid { meta["uid"] = .string(uid) }
        if let rv = object.metadata?.resourceVersion { meta["resourceVersion"] = .string(rv) }
        let reference: JSONValue = ["apiVersion": .string(Object.apiVersion), "kind": .string(Object.kind), "metadata": meta]
        await record(reference, type: type, reason: reason, message: message, fieldPath: fieldPath)
    }
}
