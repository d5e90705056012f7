import Foundation
import Hummingbird
import NIOCore
import NIOSSL
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
    public init(name: String, groups: [String]) {
        self.name = name
        self.groups = groups
    }
}

/// Authenticates requests by client certificate (verified against the cluster CA during
/// the TLS handshake) or bearer token.
public struct Authenticator: Sendable {
    /// token → user
    public var tokens: [String: UserInfo]

    public init(tokens: [String: UserInfo] = [:]) { self.tokens = tokens }

    public func authenticate(authorization: String?, subject: DistinguishedName?) -> UserInfo? {
        if let authorization, authorization.hasPrefix("Bearer ") {
            let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            if let user = tokens[token] { return user }
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
