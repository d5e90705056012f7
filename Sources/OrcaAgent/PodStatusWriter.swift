import Foundation
import OrcaClient

/// A pod the status manager writes for: where it is in the API and which object it is.
struct PodReference: Hashable, Sendable {
    var namespace: String
    var name: String
    var uid: String

    init(namespace: String, name: String, uid: String) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    /// The reference of a pod object (empty strings for missing fields).
    init(_ pod: JSONValue) {
        self.init(namespace: pod.metadataNamespace ?? "default", name: pod.metadataName ?? "", uid: pod.metadataUID ?? "")
    }
}

/// Where the status manager's writes go: the API server, or a fake in tests.
protocol PodStatusWriter: Sendable {
    /// Writes the pod's status (`pods/status`); the pod's UID is a precondition, so a new pod
    /// that took the name is never written.
    func writeStatus(_ pod: PodReference, _ status: JSONValue) async throws
    /// Deletes the terminated pod's API object at once (grace period 0, its UID a precondition).
    func deletePod(_ pod: PodReference) async throws
}

/// Writes through the API client: a JSON merge patch of `pods/status`, and a delete.
struct APIPodStatusWriter: PodStatusWriter {
    let client: any APIClient

    func writeStatus(_ pod: PodReference, _ status: JSONValue) async throws {
        // kube-apiserver rejects a patch whose `metadata.uid` is not the object's (409).
        let patch: JSONValue = ["metadata": ["uid": .string(pod.uid)], "status": status]
        _ = try await client.mergePatch(client.resource("pods"), namespace: pod.namespace, name: pod.name,
                                        patch: patch, subresource: "status")
    }

    func deletePod(_ pod: PodReference) async throws {
        var options = DeletionOptions()
        options.gracePeriodSeconds = 0
        options.preconditionUID = pod.uid
        try await client.delete(client.resource("pods"), namespace: pod.namespace, name: pod.name, options: options)
    }
}
