import Foundation
import OrcaClient
import OrcaCore

/// The tokens of pods' projected `serviceAccountToken` volumes (the kubelet's token
/// manager): one TokenRequest bound to the pod per ServiceAccount, audience and lifetime,
/// asked again once 80% of its life has passed (or after 24 hours), so the file a pod reads
/// is always valid.
actor ServiceAccountTokenCache {
    let client: any APIClient
    let clock: any WallClock

    struct Key: Hashable {
        var podUID: String
        var serviceAccount: String
        var audience: String
        var expirationSeconds: Int64
    }

    struct Token {
        var value: String
        var issued: Date
        var expires: Date
    }

    private var tokens: [Key: Token] = [:]

    init(client: any APIClient, clock: any WallClock) {
        self.client = client
        self.clock = clock
    }

    /// A token for `pod`'s ServiceAccount; `audience` empty means the API server's.
    func token(pod: JSONValue, audience: String, expirationSeconds: Int64) async throws -> String {
        let namespace = pod.metadataNamespace ?? "default"
        let account = pod[path: ["spec", "serviceAccountName"]]?.stringValue ?? "default"
        let key = Key(podUID: pod.metadataUID ?? "", serviceAccount: account, audience: audience, expirationSeconds: expirationSeconds)
        let now = clock.now
        if let cached = tokens[key], !Self.needsRefresh(cached, now: now) { return cached.value }
        var spec: [String: JSONValue] = [
            "expirationSeconds": .int(expirationSeconds),
            "boundObjectRef": ["apiVersion": "v1", "kind": "Pod", "name": .string(pod.metadataName ?? ""), "uid": .string(key.podUID)],
        ]
        if !audience.isEmpty { spec["audiences"] = [.string(audience)] }
        let request: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": .object(spec)]
        let answer = try await client.create(client.resource("serviceaccounts"), namespace: namespace, name: account,
                                             subresource: "token", object: request)
        guard let value = answer[path: ["status", "token"]]?.stringValue, !value.isEmpty else {
            throw OrcaError(.internalError, "the TokenRequest for \(namespace)/\(account) returned no token")
        }
        let expires = answer[path: ["status", "expirationTimestamp"]]?.stringValue.flatMap { KubernetesTime.date($0) }
            ?? now.addingTimeInterval(TimeInterval(expirationSeconds))
        tokens[key] = Token(value: value, issued: now, expires: expires)
        return value
    }

    /// Past 80% of its life, or a day old.
    static func needsRefresh(_ token: Token, now: Date) -> Bool {
        let life = token.expires.timeIntervalSince(token.issued)
        let age = now.timeIntervalSince(token.issued)
        return age >= life * 0.8 || age >= 86_400
    }

    /// Drops the tokens of a pod that is gone.
    func forget(podUID: String) {
        tokens = tokens.filter { $0.key.podUID != podUID }
    }
}
