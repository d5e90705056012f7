import Foundation
import Hummingbird
import NIOCore
import NIOSSL
import OrcaAPI
import OrcaPKI
import X509

/// The per-request context: Hummingbird's core storage plus the connection, so the
/// authenticator can read the TLS peer certificate.
public struct APIServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: (any Channel)?
    /// Who sent the request, once authenticated.
    public var user: UserInfo?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// The largest request body kube-apiserver reads (`MaxRequestBodyBytes`, 3 MiB).
    public static let maxRequestBodyBytes = 3 * 1024 * 1024

    public var maxUploadSize: Int { Self.maxRequestBodyBytes }

    /// The verified client certificate's subject, if the client presented one.
    public func peerSubject() async -> DistinguishedName? {
        guard let channel else { return nil }
        return await Authenticator.peerSubject(of: channel)
    }
}

/// Who made a request.
public struct UserInfo: Sendable, Equatable {
    public var name: String
    public var groups: [String]
    /// A unique id of the user, when its authenticator (or an impersonation) gives one.
    public var uid: String
    /// Extra facts an authenticator (or an impersonation) attached, by lower-case key.
    public var extra: [String: [String]]

    public init(name: String, groups: [String], uid: String = "", extra: [String: [String]] = [:]) {
        self.name = name
        self.groups = groups
        self.uid = uid
        self.extra = extra
    }

    /// As `authentication.k8s.io/v1` UserInfo spells it (SelfSubjectReview, AdmissionReview).
    public var json: JSONValue {
        var out: [String: JSONValue] = ["username": .string(name), "groups": .array(groups.map(JSONValue.string))]
        if !uid.isEmpty { out["uid"] = .string(uid) }
        if !extra.isEmpty { out["extra"] = .object(extra.mapValues { .array($0.map(JSONValue.string)) }) }
        return .object(out)
    }
}

/// Authenticates requests by client certificate (verified against the cluster CA during
/// the TLS handshake) or bearer token.
public struct Authenticator: Sendable {
    /// token → user
    public var tokens: [String: UserInfo]
    /// ServiceAccount JWTs (bound tokens and legacy Secret tokens), when the server issues them.
    public var serviceAccounts: ServiceAccountTokenAuthenticator?
    /// The time tokens are checked at.
    public var clock: @Sendable () -> Date

    public init(tokens: [String: UserInfo] = [:], serviceAccounts: ServiceAccountTokenAuthenticator? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.tokens = tokens
        self.serviceAccounts = serviceAccounts
        self.clock = clock
    }

    /// What a bearer token says.
    public enum TokenResult: Sendable, Equatable {
        case user(UserInfo)
        /// A token of ours that is no longer (or never was) valid, and why.
        case invalid(String)
        case unknown
    }

    /// The user of a bearer token: a static token, or a ServiceAccount token.
    public func authenticate(token: String) async -> TokenResult {
        if let user = tokens[token] { return .user(user) }
        guard let serviceAccounts else { return .unknown }
        switch await serviceAccounts.authenticate(token, now: clock()) {
        case .user(let user): return .user(user)
        case .invalid(let why): return .invalid(why)
        case .notAServiceAccountToken: return .unknown
        }
    }

    /// The user of a request: its bearer token, else its verified client certificate.
    public func authenticate(authorization: String?, subject: DistinguishedName?) async -> UserInfo? {
        if let authorization, authorization.hasPrefix("Bearer ") {
            let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            if case .user(let user) = await authenticate(token: token) { return user }
            return nil
        }
        if let subject {
            return UserInfo(name: subject.commonName, groups: subject.organizations + ["system:authenticated"])
        }
        return nil
    }

    /// The verified client certificate's subject on `channel`, if the client presented one.
    public static func peerSubject(of channel: any Channel) async -> DistinguishedName? {
        var candidates: [any Channel] = [channel]
        if let parent = channel.parent { candidates.append(parent) }
        for ch in candidates {
            if let cert = try? await ch.nioSSL_peerCertificate().get(),
               let der = try? cert.toDERBytes(),
               let parsed = try? Certificate(derEncoded: der) {
                return parsed.subject
            }
        }
        return nil
    }
}

extension NodeJoinToken {
    /// Who a bootstrap token `<id>.<secret>` authenticates as: `system:bootstrap:<id>` in
    /// `system:bootstrappers` (Kubernetes' bootstrap token authenticator). RBAC lets that
    /// group ask for node certificates (`orca:kubelet-bootstrap`) and read discovery.
    public static func bootstrapUser(id: String) -> UserInfo {
        UserInfo(name: "system:bootstrap:\(id)", groups: ["system:bootstrappers", "system:authenticated"])
    }
}
