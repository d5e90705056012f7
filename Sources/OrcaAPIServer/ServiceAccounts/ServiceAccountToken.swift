import Foundation
import OrcaAPI
import OrcaCore

/// A bound ServiceAccount token's claims, as kube-apiserver writes them
/// (`pkg/serviceaccount/claims.go`), and their compact JWS form (`header.payload.signature`,
/// RS256, with the signing key's `kid`).
///
/// The payload is JSON with sorted keys, as Go marshals the merged claim maps:
/// `aud` (array), `exp`, `iat`, `iss`, `jti`, `kubernetes.io`, `nbf`, `sub`.
public struct ServiceAccountToken: Sendable, Hashable {
    /// A `name` and `uid` of an object in the private claim.
    public struct ObjectRef: Sendable, Hashable {
        public var name: String
        public var uid: String
        public init(name: String, uid: String) {
            self.name = name
            self.uid = uid
        }
    }

    public var issuer: String
    /// `system:serviceaccount:<namespace>:<name>`.
    public var subject: String
    public var audiences: [String]
    /// `iat`, `nbf`, `exp`: seconds since 1970 (JWT NumericDate).
    public var issuedAt: Int64
    public var notBefore: Int64
    public var expiry: Int64
    /// `jti`: a random UUID.
    public var id: String?
    public var namespace: String
    public var serviceAccount: ObjectRef
    public var pod: ObjectRef?
    public var secret: ObjectRef?
    public var node: ObjectRef?
    /// kube's `warnafter`: when a deliberately extended token should have been refreshed.
    public var warnAfter: Int64?

    public init(issuer: String, subject: String, audiences: [String], issuedAt: Int64, notBefore: Int64, expiry: Int64,
                id: String?, namespace: String, serviceAccount: ObjectRef, pod: ObjectRef? = nil, secret: ObjectRef? = nil,
                node: ObjectRef? = nil, warnAfter: Int64? = nil) {
        self.issuer = issuer
        self.subject = subject
        self.audiences = audiences
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.expiry = expiry
        self.id = id
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.pod = pod
        self.secret = secret
        self.node = node
        self.warnAfter = warnAfter
    }

    /// The user name of a ServiceAccount: `system:serviceaccount:<namespace>:<name>`.
    public static func username(namespace: String, name: String) -> String {
        "system:serviceaccount:\(namespace):\(name)"
    }

    // MARK: claims

    /// The JWT payload.
    public var claims: JSONValue {
        func ref(_ r: ObjectRef) -> JSONValue {
            var o: [String: JSONValue] = [:]
            if !r.name.isEmpty { o["name"] = .string(r.name) }  // Go: `omitempty`
            if !r.uid.isEmpty { o["uid"] = .string(r.uid) }
            return .object(o)
        }
        var kube: [String: JSONValue] = ["serviceaccount": ref(serviceAccount)]
        if !namespace.isEmpty { kube["namespace"] = .string(namespace) }
        if let pod { kube["pod"] = ref(pod) }
        if let secret { kube["secret"] = ref(secret) }
        if let node { kube["node"] = ref(node) }
        if let warnAfter { kube["warnafter"] = .int(warnAfter) }
        var o: [String: JSONValue] = [
            "iss": .string(issuer), "sub": .string(subject), "aud": .array(audiences.map(JSONValue.string)),
            "iat": .int(issuedAt), "nbf": .int(notBefore), "exp": .int(expiry), "kubernetes.io": .object(kube),
        ]
        if let id { o["jti"] = .string(id) }
        return .object(o)
    }

    /// The claims of a secret-based (legacy) token, as kube's token controller writes them
    /// into `kubernetes.io/service-account-token` Secrets: no audience and no expiry.
    public static func legacyClaims(namespace: String, serviceAccountName: String, serviceAccountUID: String,
                                    secretName: String) -> JSONValue {
        [
            "iss": .string(ServiceAccountTokenAuthenticator.legacyIssuer),
            "sub": .string(username(namespace: namespace, name: serviceAccountName)),
            "kubernetes.io/serviceaccount/namespace": .string(namespace),
            "kubernetes.io/serviceaccount/secret.name": .string(secretName),
            "kubernetes.io/serviceaccount/service-account.name": .string(serviceAccountName),
            "kubernetes.io/serviceaccount/service-account.uid": .string(serviceAccountUID),
        ]
    }

    /// Reads bound-token claims; nil when `claims` lacks the `kubernetes.io` claim, the
    /// ServiceAccount or a time (a token some other issuer made, or a legacy one).
    public init?(claims: JSONValue) {
        guard let k = claims["kubernetes.io"], k.objectValue != nil,
              let sa = Self.ref(k["serviceaccount"]), let namespace = k["namespace"]?.stringValue,
              let exp = Self.numericDate(claims["exp"]) else { return nil }
        self.issuer = claims["iss"]?.stringValue ?? ""
        self.subject = claims["sub"]?.stringValue ?? ""
        self.audiences = Self.audience(claims["aud"])
        self.expiry = exp
        self.issuedAt = Self.numericDate(claims["iat"]) ?? 0
        self.notBefore = Self.numericDate(claims["nbf"]) ?? 0
        self.id = claims["jti"]?.stringValue
        self.namespace = namespace
        self.serviceAccount = sa
        self.pod = Self.ref(k["pod"])
        self.secret = Self.ref(k["secret"])
        self.node = Self.ref(k["node"])
        self.warnAfter = Self.numericDate(k["warnafter"])
    }

    /// An `aud` claim: a string or an array of strings (RFC 7519 §4.1.3).
    static func audience(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let s): [s]
        case .array(let a): a.compactMap(\.stringValue)
        default: []
        }
    }

    /// A NumericDate claim (go-jose reads fractional seconds too, truncating them).
    static func numericDate(_ value: JSONValue?) -> Int64? {
        switch value {
        case .int(let i): i
        case .double(let d) where d.isFinite && abs(d) < 9e18: Int64(d)
        default: nil
        }
    }

    private static func ref(_ value: JSONValue?) -> ObjectRef? {
        guard let value, value.objectValue != nil else { return nil }
        return ObjectRef(name: value["name"]?.stringValue ?? "", uid: value["uid"]?.stringValue ?? "")
    }

    // MARK: compact JWS

    /// Signs `claims` with `key`: `base64url({"alg":"RS256","kid":…}).base64url(claims).base64url(sig)`.
    public static func sign(claims: JSONValue, with key: ServiceAccountSigningKey) throws -> String {
        let header = #"{"alg":"RS256","kid":"\#(key.keyID)"}"#
        let input = Base64URL.encode(Data(header.utf8)) + "." + Base64URL.encode(claims.encoded())
        return input + "." + Base64URL.encode(try key.signature(for: Data(input.utf8)))
    }

    /// This token, signed with `key`.
    public func signed(with key: ServiceAccountSigningKey) throws -> String {
        try Self.sign(claims: claims, with: key)
    }

    /// A compact JWS taken apart, its signature not yet checked.
    public struct Compact: Sendable {
        public var header: JSONValue
        /// The claims. Do not trust them before `verify` succeeds.
        public var claims: JSONValue
        /// `header.payload` as sent: what the signature covers.
        var signingInput: Substring
        var signature: Data

        /// Parses `token`; nil when it is not three base64url parts with JSON object header
        /// and payload.
        public init?(_ token: String) {
            let parts = token.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3,
                  let h = Base64URL.decode(parts[0]), let header = try? JSONValue.parse(h), header.objectValue != nil,
                  let p = Base64URL.decode(parts[1]), let claims = try? JSONValue.parse(p), claims.objectValue != nil,
                  let signature = Base64URL.decode(parts[2]) else { return nil }
            self.header = header
            self.claims = claims
            self.signature = signature
            self.signingInput = token[parts[0].startIndex..<parts[1].endIndex]
        }

        /// The `kid` header, if any.
        public var keyID: String? { header["kid"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }

        /// Checks the signature against `keys` (those whose ID is the `kid` header, or all of
        /// them when there is none); only `alg: RS256` is accepted. Throws the reason it fails.
        public func verify(keys: [ServiceAccountPublicKey]) throws {
            let candidates = keyID.map { kid in keys.filter { $0.keyID == kid } } ?? keys
            guard !candidates.isEmpty else { throw OrcaError(.unauthorized, "invalid signature, no keys found") }
            guard header["alg"]?.stringValue == "RS256" else {
                throw OrcaError(.unauthorized, "unexpected signature algorithm \"\(header["alg"]?.stringValue ?? "")\"; expected [\"RS256\"]")
            }
            let input = Data(signingInput.utf8)
            guard candidates.contains(where: { $0.isValidSignature(signature, for: input) }) else {
                throw OrcaError(.unauthorized, "crypto/rsa: verification error")
            }
        }
    }
}
