import Foundation
import OrcaAPI
import OrcaCore

/// The ServiceAccount issuer's OpenID Connect discovery documents, as kube-apiserver serves
/// them (`pkg/serviceaccount/openidmetadata.go`, `pkg/routes/openidmetadata.go`):
/// `GET /.well-known/openid-configuration` and `GET /openid/v1/jwks`, both with
/// `Cache-Control: public, max-age=3600`.
public struct OIDCDiscovery: Sendable {
    /// Where the configuration document is served.
    public static let configurationPath = "/.well-known/openid-configuration"
    /// Where the key set is served.
    public static let keySetPath = "/openid/v1/jwks"
    /// `Cache-Control` of both responses.
    public static let cacheControl = "public, max-age=3600"
    /// `Content-Type` of the configuration.
    public static let configurationContentType = "application/json"
    /// `Content-Type` of the key set (RFC 7517 §8.5.1).
    public static let keySetContentType = "application/jwk-set+json"

    /// The `issuer` (`--service-account-issuer`).
    public let issuer: String
    /// The `jwks_uri` (`--service-account-jwks-uri`, or from the external address).
    public let jwksURI: String
    /// The keys published (the verification keys).
    public let keys: [ServiceAccountPublicKey]

    /// Checks the issuer as kube does (an `https` URL without query or fragment). `jwksURI`
    /// must be `https` too; without it the key set is at `https://<externalAddress>/openid/v1/jwks`
    /// (`externalAddress` is `host:port`, IPv6 in brackets: kube's `--advertise-address` and
    /// secure port), and without either at the issuer's own `/openid/v1/jwks`.
    /// Throws `OrcaError.invalid`.
    public init(issuer: String, keys: [ServiceAccountPublicKey], jwksURI: String? = nil,
                externalAddress: String? = nil) throws {
        guard let iss = URLComponents(string: issuer), iss.host != nil else {
            throw OrcaError(.invalid, "issuer URL is not a URL: \(issuer)")
        }
        guard iss.scheme == "https" else { throw OrcaError(.invalid, "issuer URL must use https scheme, got: \(issuer)") }
        guard iss.query == nil else { throw OrcaError(.invalid, "issuer URL may not include a query, got: \(issuer)") }
        guard iss.fragment == nil else { throw OrcaError(.invalid, "issuer URL may not include a fragment, got: \(issuer)") }
        guard !keys.isEmpty else { throw OrcaError(.invalid, "no keys provided for validating keyset") }
        if let jwksURI, !jwksURI.isEmpty {
            guard URLComponents(string: jwksURI)?.scheme == "https" else {
                throw OrcaError(.invalid, "jwksURI requires https scheme, parsed as: \(jwksURI)")
            }
            self.jwksURI = jwksURI
        } else if let externalAddress, !externalAddress.isEmpty {
            let text = "https://\(externalAddress)\(Self.keySetPath)"
            guard let u = URLComponents(string: text), u.host != nil, u.path == Self.keySetPath else {
                throw OrcaError(.invalid, "attempted to build jwks_uri from external address \(externalAddress), but could not construct a valid URL")
            }
            self.jwksURI = text
        } else {
            self.jwksURI = (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + Self.keySetPath
        }
        self.issuer = issuer
        self.keys = keys
    }

    /// The discovery document: `issuer`, `jwks_uri`, `response_types_supported: ["id_token"]`,
    /// `subject_types_supported: ["public"]`, `id_token_signing_alg_values_supported: ["RS256"]`.
    public var configuration: JSONValue {
        [
            "issuer": .string(issuer),
            "jwks_uri": .string(jwksURI),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        ]
    }

    /// The JWKS: `{"keys": [jwk, …]}`.
    public var keySet: JSONValue {
        ["keys": .array(keys.map(\.jwk))]
    }
}
