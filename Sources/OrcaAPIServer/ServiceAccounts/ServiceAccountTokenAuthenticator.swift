import Foundation
import OrcaAPI
import OrcaCore

/// Authenticates bearer tokens that are ServiceAccount JWTs, as kube-apiserver's service
/// account authenticators do (`pkg/serviceaccount/jwt.go`, `claims.go`, `legacy.go`):
/// signature, issuer, audience, lifetime (with go-jose's one-minute leeway), and that the
/// ServiceAccount and the bound pod, secret or node still exist with the uids in the token.
///
/// The objects are read through the `Registry` at each request (kube reads an informer cache).
/// Not done: the `authentication.kubernetes.io/*` user extras (UserInfo has no `extra`), and
/// legacy tokens' `kubernetes.io/legacy-token-last-used` label updates.
public struct ServiceAccountTokenAuthenticator: Sendable {
    /// What a bearer token turned out to be.
    public enum Result: Sendable, Equatable {
        /// Not a JWT with an issuer this server accepts: try the other authenticators.
        case notAServiceAccountToken
        /// One of ours, but rejected (401); the reason is for logs, not for the client.
        case invalid(String)
        /// The ServiceAccount user `system:serviceaccount:<namespace>:<name>`.
        case user(UserInfo)
    }

    /// The `iss` of secret-based (legacy) tokens.
    public static let legacyIssuer = "kubernetes/serviceaccount"
    /// go-jose's `DefaultLeeway` for `exp`, `nbf`, `iat` and recent deletions, in seconds.
    public static let leeway: TimeInterval = 60

    public let registry: Registry
    /// The keys tokens may be signed with (the signing key's public half first).
    public var keys: [ServiceAccountPublicKey]
    /// Accepted `iss` values of bound tokens (`--service-account-issuer`, all of them).
    public var issuers: [String]
    /// The API server's audiences (`--api-audiences`): a token must name one of them.
    public var audiences: [String]
    /// Whether tokens from `kubernetes.io/service-account-token` Secrets are accepted.
    public var acceptsLegacyTokens: Bool

    public init(registry: Registry, keys: [ServiceAccountPublicKey], issuers: [String] = [ServiceAccountTokenIssuer.defaultIssuer],
                audiences: [String]? = nil, acceptsLegacyTokens: Bool = true) {
        self.registry = registry
        self.keys = keys
        self.issuers = issuers
        self.audiences = audiences ?? Array(issuers.prefix(1))
        self.acceptsLegacyTokens = acceptsLegacyTokens
    }

    /// Accepts what `issuer` signs (plus `additionalKeys`, e.g. a previous key during rotation).
    public init(registry: Registry, issuer: ServiceAccountTokenIssuer, additionalKeys: [ServiceAccountPublicKey] = [],
                acceptsLegacyTokens: Bool = true) {
        self.init(registry: registry, keys: [issuer.key.publicKey] + additionalKeys, issuers: [issuer.issuer],
                  audiences: issuer.audiences, acceptsLegacyTokens: acceptsLegacyTokens)
    }

    /// Authenticates `token` (the bearer token, without `Bearer `) at `now`.
    public func authenticate(_ token: String, now: Date) async -> Result {
        guard !token.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{"),
              let jws = ServiceAccountToken.Compact(token),
              let iss = jws.claims["iss"]?.stringValue else { return .notAServiceAccountToken }
        let legacy = acceptsLegacyTokens && iss == Self.legacyIssuer
        guard legacy || issuers.contains(iss) else { return .notAServiceAccountToken }
        do {
            try jws.verify(keys: keys)
        } catch {
            return .invalid((error as? OrcaError)?.message ?? String(describing: error))
        }
        var tokenAudiences = ServiceAccountToken.audience(jws.claims["aud"])
        if tokenAudiences.isEmpty { tokenAudiences = audiences }  // legacy tokens have none
        if !audiences.isEmpty, !tokenAudiences.contains(where: audiences.contains) {
            return .invalid("token audiences \(Self.goList(tokenAudiences)) is invalid for the target audiences \(Self.goList(audiences))")
        }
        do {
            return .user(legacy ? try await legacyUser(token, jws.claims) : try await boundUser(jws.claims, now: now))
        } catch let e as Rejection {
            return .invalid(e.message)
        } catch {
            return .invalid(APIError.from(error, resource: nil, name: nil).message)
        }
    }

    /// Why a token whose signature is good is still refused.
    struct Rejection: Error {
        var message: String
        init(_ message: String) { self.message = message }
        static let invalidated = Rejection("service account token has been invalidated")
    }

    // MARK: bound tokens

    private func boundUser(_ claims: JSONValue, now: Date) async throws -> UserInfo {
        guard let token = ServiceAccountToken(claims: claims), !token.namespace.isEmpty, !token.serviceAccount.name.isEmpty else {
            throw Rejection("service account token claims could not be validated due to unexpected private claim")
        }
        let t = now.timeIntervalSince1970
        if t + Self.leeway < TimeInterval(token.notBefore) { throw Rejection("service account token is not valid yet") }
        if t - Self.leeway > TimeInterval(token.expiry) { throw Rejection("service account token has expired") }
        if t + Self.leeway < TimeInterval(token.issuedAt) { throw Rejection("service account token is issued in the future") }

        let cutoff = now.addingTimeInterval(-Self.leeway)
        func deleted(_ object: JSONValue) -> Bool {
            KubernetesTime.date(object.deletionTimestamp).map { $0 < cutoff } ?? false
        }
        let ns = token.namespace
        let sa = token.serviceAccount
        let account = try await get("serviceaccounts", ns, sa.name)
        if account.metadataUID ?? "" != sa.uid {
            throw Rejection("service account UID (\(account.metadataUID ?? "")) does not match claim (\(sa.uid))")
        }
        if deleted(account) { throw Rejection("service account \(ns)/\(sa.name) has been deleted") }

        if let ref = token.secret {
            guard let secret = try? await get("secrets", ns, ref.name) else { throw Rejection.invalidated }
            if ref.uid != secret.metadataUID ?? "" {
                throw Rejection("secret UID (\(secret.metadataUID ?? "")) does not match service account secret ref claim (\(ref.uid))")
            }
            if deleted(secret) { throw Rejection.invalidated }
        }
        if let ref = token.pod {
            guard let pod = try? await get("pods", ns, ref.name) else { throw Rejection.invalidated }
            if ref.uid != pod.metadataUID ?? "" {
                throw Rejection("pod UID (\(pod.metadataUID ?? "")) does not match service account pod ref claim (\(ref.uid))")
            }
            if deleted(pod) { throw Rejection.invalidated }
            // A pod's node never changes; a token naming another node was not issued for this pod.
            if let node = token.node, let nodeName = pod[path: ["spec", "nodeName"]]?.stringValue,
               !nodeName.isEmpty, nodeName != node.name {
                throw Rejection.invalidated
            }
        } else if let ref = token.node {
            guard let node = try? await get("nodes", nil, ref.name) else { throw Rejection.invalidated }
            if ref.uid != node.metadataUID ?? "" {
                throw Rejection("node UID (\(node.metadataUID ?? "")) does not match service account node ref claim (\(ref.uid))")
            }
            if deleted(node) { throw Rejection.invalidated }
        }
        return Self.user(namespace: ns, name: sa.name)
    }

    // MARK: legacy tokens

    private func legacyUser(_ token: String, _ claims: JSONValue) async throws -> UserInfo {
        func claim(_ key: String, _ name: String) throws -> String {
            guard let v = claims["kubernetes.io/serviceaccount/\(key)"]?.stringValue, !v.isEmpty else {
                throw Rejection("\(name) claim is missing")
            }
            return v
        }
        guard let subject = claims["sub"]?.stringValue, !subject.isEmpty else { throw Rejection("sub claim is missing") }
        let ns = try claim("namespace", "namespace")
        let secretName = try claim("secret.name", "secretName")
        let name = try claim("service-account.name", "serviceAccountName")
        let uid = try claim("service-account.uid", "serviceAccountUID")
        if subject != ServiceAccountToken.username(namespace: ns, name: name) { throw Rejection("sub claim is invalid") }

        guard let secret = try? await get("secrets", ns, secretName), secret.deletionTimestamp == nil else {
            throw Rejection("Token has been invalidated")
        }
        let stored = secret[path: ["data", "token"]]?.stringValue.flatMap { Data(base64Encoded: $0) } ?? Data()
        if !Self.constantTimeEqual(stored, Data(token.utf8)) { throw Rejection("Token does not match server's copy") }

        let account = try await get("serviceaccounts", ns, name)
        if account.deletionTimestamp != nil { throw Rejection("ServiceAccount \(ns)/\(name) has been deleted") }
        if account.metadataUID ?? "" != uid {
            throw Rejection("ServiceAccount UID (\(account.metadataUID ?? "")) does not match claim (\(uid))")
        }
        if let since = secret.labels["kubernetes.io/legacy-token-invalid-since"], !since.isEmpty {
            throw Rejection("the token in secret \(ns)/\(secretName) for service account \(ns)/\(name) has been marked invalid. Use tokens from the TokenRequest API or manually created secret-based tokens, or remove the 'kubernetes.io/legacy-token-invalid-since' label from the secret to temporarily allow use of this token")
        }
        return Self.user(namespace: ns, name: name)
    }

    // MARK: helpers

    /// The user of ServiceAccount `namespace/name`, with the groups kube gives it.
    public static func user(namespace: String, name: String) -> UserInfo {
        UserInfo(name: ServiceAccountToken.username(namespace: namespace, name: name),
                 groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"])
    }

    /// A core/v1 object through the registry; 404 and other failures as the registry throws them.
    private func get(_ resource: String, _ namespace: String?, _ name: String) async throws -> JSONValue {
        guard let r = registry.catalog.resource(group: "", version: "v1", resource: resource) else {
            throw Rejection("\(resource) are not served")
        }
        return try await registry.get(r, namespace: namespace, name: name)
    }

    /// `%q` of a `[]string` in Go: `["a" "b"]`.
    static func goList(_ items: [String]) -> String {
        "[" + items.map(GoQuote.quote).joined(separator: " ") + "]"
    }

    private static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for (x, y) in zip(a, b) { diff |= x ^ y }
        return diff == 0
    }
}
