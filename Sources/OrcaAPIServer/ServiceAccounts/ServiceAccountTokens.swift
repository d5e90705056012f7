import Foundation
import OrcaAPI

/// The server's ServiceAccount tokens, in one place: it issues bound tokens
/// (`serviceaccounts/<name>/token`), authenticates them, and publishes its issuer for OIDC
/// discovery (`/.well-known/openid-configuration`, `/openid/v1/jwks`).
public struct ServiceAccountTokens: Sendable {
    public let issuer: ServiceAccountTokenIssuer
    public let authenticator: ServiceAccountTokenAuthenticator
    public let discovery: OIDCDiscovery

    /// Tokens signed with `key`; `externalAddress` (`host:port`) is where clients find the JWKS.
    public init(key: ServiceAccountSigningKey, registry: Registry, externalAddress: String?) throws {
        let issuer = ServiceAccountTokenIssuer(key: key)
        self.issuer = issuer
        self.authenticator = ServiceAccountTokenAuthenticator(registry: registry, issuer: issuer)
        self.discovery = try OIDCDiscovery(issuer: issuer.issuer, keys: [key.publicKey], externalAddress: externalAddress)
    }
}
