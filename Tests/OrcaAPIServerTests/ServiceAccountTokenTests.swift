import Foundation
import Glibc
import OrcaAPI
import Testing
@testable import OrcaAPIServer

/// ServiceAccount tokens as kube-apiserver issues and checks them: TokenRequest defaults and
/// errors, the JWT's claims, the authenticator's checks, the signing key on disk and the
/// OIDC discovery documents.
@Suite struct ServiceAccountTokenTests {
    static let key = try! ServiceAccountSigningKey.generate()
    static let otherKey = try! ServiceAccountSigningKey.generate()
    static let apiAudience = "https://kubernetes.default.svc.cluster.local"

    /// A cluster, an issuer with a fixed `jti`, and an authenticator for what it signs.
    struct Fixture {
        let c: TestCluster
        let issuer: ServiceAccountTokenIssuer
        let authenticator: ServiceAccountTokenAuthenticator

        init(maxExpirationSeconds: Int64? = nil) async throws {
            c = try await TestCluster()
            issuer = ServiceAccountTokenIssuer(key: ServiceAccountTokenTests.key, maxExpirationSeconds: maxExpirationSeconds,
                                               newID: { "0b6e1a3c-8d0f-4f7e-9a51-2f8d7c1e4b90" })
            authenticator = ServiceAccountTokenAuthenticator(registry: c.registry, issuer: issuer)
        }

        @discardableResult
        func serviceAccount(_ name: String) async throws -> JSONValue {
            try await c.registry.create(c.r("serviceaccounts"), namespace: "default", object: ["metadata": ["name": .string(name)]])
        }

        func issue(_ name: String, _ spec: TokenRequestSpec? = nil, metadata: ObjectMeta? = nil) async throws -> AuthenticationV1TokenRequest {
            try await issuer.issue(namespace: "default", serviceAccountName: name,
                                   request: AuthenticationV1TokenRequest(metadata: metadata, spec: spec), registry: c.registry)
        }

        func token(_ name: String, _ spec: TokenRequestSpec? = nil) async throws -> String {
            try #require(try await issue(name, spec).status?.token)
        }

        func authenticate(_ token: String) async -> ServiceAccountTokenAuthenticator.Result {
            await authenticator.authenticate(token, now: c.clock.now)
        }

        func user(_ name: String) -> ServiceAccountTokenAuthenticator.Result {
            .user(UserInfo(name: "system:serviceaccount:default:\(name)",
                           groups: ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]))
        }
    }

    static func claims(_ token: String) throws -> JSONValue {
        try #require(ServiceAccountToken.Compact(token)).claims
    }

    static func pod(_ name: String, serviceAccount: String) -> JSONValue {
        ["metadata": ["name": .string(name)],
         "spec": ["serviceAccountName": .string(serviceAccount), "containers": [["name": "c", "image": "busybox:1.35"]]]]
    }

    // MARK: issue and authenticate

    @Test func anIssuedTokenAuthenticatesAsItsServiceAccount() async throws {
        let f = try await Fixture()
        let sa = try await f.serviceAccount("builder")
        let response = try await f.issue("builder")
        #expect(response.kind == "TokenRequest" && response.apiVersion == "authentication.k8s.io/v1")
        #expect(response.metadata?.name == "builder" && response.metadata?.namespace == "default")
        #expect(response.metadata?.uid == sa.metadataUID)
        #expect(response.spec?.audiences == [Self.apiAudience])
        #expect(response.spec?.expirationSeconds == 3600)
        #expect(response.status?.expirationTimestamp == "2023-11-14T23:13:20Z")
        let token = try #require(response.status?.token)

        let jws = try #require(ServiceAccountToken.Compact(token))
        #expect(jws.header == ["alg": "RS256", "kid": .string(Self.key.keyID)])
        let start = Int64(TestCluster.start.timeIntervalSince1970)
        #expect(jws.claims == [
            "aud": [.string(Self.apiAudience)], "exp": .int(start + 3600), "iat": .int(start), "nbf": .int(start),
            "iss": .string(Self.apiAudience), "jti": "0b6e1a3c-8d0f-4f7e-9a51-2f8d7c1e4b90",
            "sub": "system:serviceaccount:default:builder",
            "kubernetes.io": ["namespace": "default", "serviceaccount": ["name": "builder", "uid": .string(sa.metadataUID ?? "")]],
        ])
        #expect(await f.authenticate(token) == f.user("builder"))
        // The go-jose leeway: a minute past `exp` is still accepted.
        f.c.clock.advance(by: .seconds(3600 + 60))
        #expect(await f.authenticate(token) == f.user("builder"))
    }

    @Test func theSynchronousIssuerTakesTheServiceAccountAndBoundObject() async throws {
        let f = try await Fixture()
        let sa = try await f.serviceAccount("builder").decode(ServiceAccount.self)
        let secret = try await f.c.registry.create(f.c.r("secrets"), namespace: "default", object: ["metadata": ["name": "s"]])
        let request = AuthenticationV1TokenRequest(spec: TokenRequestSpec(
            audiences: ["vault", Self.apiAudience], boundObjectRef: BoundObjectReference(kind: "Secret", name: "s"), expirationSeconds: 7200))
        let response = try f.issuer.issue(serviceAccount: sa, request: request, boundObject: secret, now: f.c.clock.now)
        let token = try #require(response.status?.token)
        let claims = try Self.claims(token)
        #expect(claims["aud"] == ["vault", .string(Self.apiAudience)])
        #expect(claims[path: ["kubernetes.io", "secret"]] == ["name": "s", "uid": .string(secret.metadataUID ?? "")])
        #expect(response.status?.expirationTimestamp == "2023-11-15T00:13:20Z")
        #expect(await f.authenticate(token) == f.user("builder"))
        _ = try await f.c.registry.delete(f.c.r("secrets"), namespace: "default", name: "s")
        #expect(await f.authenticate(token) == .invalid("service account token has been invalidated"))
    }

    enum Tampering: String, CaseIterable, Sendable {
        case signature, claims, otherKey, otherKeyUnderOurKeyID, unsignedAlgorithm, expired, wrongAudience
        case deletedServiceAccount, recreatedServiceAccount
    }

    @Test(arguments: Tampering.allCases)
    func aTamperedOrStaleTokenIsInvalid(_ t: Tampering) async throws {
        let f = try await Fixture()
        let uid = try #require(try await f.serviceAccount("builder").metadataUID)
        let token = try await f.token("builder", t == .wrongAudience ? TokenRequestSpec(audiences: ["vault"]) : nil)
        let parts = token.split(separator: ".").map(String.init)
        let claims = try Self.claims(token)
        func b64(_ s: String) -> String { Base64URL.encode(Data(s.utf8)) }
        let presented: String
        let expected: String
        switch t {
        case .signature:
            var sig = Array(parts[2])
            sig[10] = sig[10] == "A" ? "B" : "A"
            presented = parts[0] + "." + parts[1] + "." + String(sig)
            expected = "verification error"
        case .claims:
            var longer = claims
            longer["exp"] = .int((claims["exp"]?.intValue ?? 0) + 86_400 * 365)
            presented = parts[0] + "." + Base64URL.encode(longer.encoded()) + "." + parts[2]
            expected = "verification error"
        case .otherKey:
            presented = try ServiceAccountToken.sign(claims: claims, with: Self.otherKey)
            expected = "invalid signature, no keys found"
        case .otherKeyUnderOurKeyID:
            let input = b64(#"{"alg":"RS256","kid":"\#(Self.key.keyID)"}"#) + "." + parts[1]
            presented = input + "." + Base64URL.encode(try Self.otherKey.signature(for: Data(input.utf8)))
            expected = "verification error"
        case .unsignedAlgorithm:
            presented = b64(#"{"alg":"none","kid":"\#(Self.key.keyID)"}"#) + "." + parts[1] + "." + parts[2]
            expected = "unexpected signature algorithm \"none\""
        case .expired:
            f.c.clock.advance(by: .seconds(3600 + 61))
            presented = token
            expected = "service account token has expired"
        case .wrongAudience:
            presented = token
            expected = "token audiences [\"vault\"] is invalid for the target audiences [\"\(Self.apiAudience)\"]"
        case .deletedServiceAccount:
            _ = try await f.c.registry.delete(f.c.r("serviceaccounts"), namespace: "default", name: "builder")
            presented = token
            expected = "serviceaccounts \"builder\" not found"
        case .recreatedServiceAccount:
            _ = try await f.c.registry.delete(f.c.r("serviceaccounts"), namespace: "default", name: "builder")
            let again = try await f.serviceAccount("builder")
            #expect(again.metadataUID != uid)
            presented = token
            expected = "service account UID (\(again.metadataUID ?? "")) does not match claim (\(uid))"
        }
        if presented != token {
            #expect(await f.authenticate(token) == f.user("builder"), "the untouched token still works")
        }
        let result = await f.authenticate(presented)
        guard case .invalid(let why) = result else {
            Issue.record("\(t): \(result)")
            return
        }
        #expect(why.contains(expected), "\(t): \(why)")
    }

    @Test func tokensOfOtherIssuersAreLeftToOtherAuthenticators() async throws {
        let f = try await Fixture()
        try await f.serviceAccount("builder")
        var claims = try Self.claims(try await f.token("builder"))
        claims["iss"] = "https://accounts.example.com"
        let foreign = try ServiceAccountToken.sign(claims: claims, with: Self.key)
        for token in [foreign, "not-a-jwt", "a.b.c", "3f2c9e1d0b7a6584.31a4e7d2c8b5f609", #"{"iss":"\#(Self.apiAudience)"}"#] {
            #expect(await f.authenticate(token) == .notAServiceAccountToken, "\(token)")
        }
    }

    // MARK: bound objects

    @Test func aPodBoundTokenNamesThePodAndItsNodeAndEndsWithThePod() async throws {
        let f = try await Fixture()
        try await f.serviceAccount("runner")
        let pods = f.c.r("pods")
        let node = try await f.c.registry.create(f.c.r("nodes"), namespace: nil, object: ["metadata": ["name": "n1"]])
        let pod = try await f.c.registry.create(pods, namespace: "default", object: Self.pod("web", serviceAccount: "runner"))
        _ = try await f.c.registry.bind(pods, namespace: "default", name: "web", node: "n1")
        let podUID = try #require(pod.metadataUID)
        let token = try await f.token("runner", TokenRequestSpec(
            boundObjectRef: BoundObjectReference(apiVersion: "v1", kind: "Pod", name: "web", uid: podUID)))
        let claims = try Self.claims(token)
        #expect(claims[path: ["kubernetes.io", "pod"]] == ["name": "web", "uid": .string(podUID)])
        #expect(claims[path: ["kubernetes.io", "node"]] == ["name": "n1", "uid": .string(node.metadataUID ?? "")])
        #expect(await f.authenticate(token) == f.user("runner"))

        // A pod on a node is deleted gracefully (30s); its tokens last until a minute after that.
        let (_, gone) = try await f.c.registry.delete(pods, namespace: "default", name: "web")
        #expect(!gone)
        #expect(await f.authenticate(token) == f.user("runner"))
        f.c.clock.advance(by: .seconds(30 + 61))
        #expect(await f.authenticate(token) == .invalid("service account token has been invalidated"))
    }

    @Test func aTokenBoundToAnUnscheduledPodEndsWhenThePodIsDeleted() async throws {
        let f = try await Fixture()
        try await f.serviceAccount("runner")
        _ = try await f.c.registry.create(f.c.r("pods"), namespace: "default", object: Self.pod("batch", serviceAccount: "runner"))
        let token = try await f.token("runner", TokenRequestSpec(boundObjectRef: BoundObjectReference(apiVersion: "v1", kind: "Pod", name: "batch")))
        #expect(try Self.claims(token)[path: ["kubernetes.io", "node"]] == nil)
        #expect(await f.authenticate(token) == f.user("runner"))
        _ = try await f.c.registry.delete(f.c.r("pods"), namespace: "default", name: "batch")
        #expect(await f.authenticate(token) == .invalid("service account token has been invalidated"))
    }

    @Test func aNodeBoundTokenEndsWithTheNode() async throws {
        let f = try await Fixture()
        try await f.serviceAccount("agent")
        let node = try await f.c.registry.create(f.c.r("nodes"), namespace: nil, object: ["metadata": ["name": "n2"]])
        let token = try await f.token("agent", TokenRequestSpec(boundObjectRef: BoundObjectReference(apiVersion: "v1", kind: "Node", name: "n2")))
        #expect(try Self.claims(token)[path: ["kubernetes.io", "node"]] == ["name": "n2", "uid": .string(node.metadataUID ?? "")])
        #expect(await f.authenticate(token) == f.user("agent"))
        _ = try await f.c.registry.delete(f.c.r("nodes"), namespace: nil, name: "n2")
        #expect(await f.authenticate(token) == .invalid("service account token has been invalidated"))
    }

    @Test func boundObjectErrorsAreKubes() async throws {
        let f = try await Fixture()
        try await f.serviceAccount("runner")
        _ = try await f.c.registry.create(f.c.r("pods"), namespace: "default", object: Self.pod("web", serviceAccount: "runner"))
        _ = try await f.c.registry.create(f.c.r("pods"), namespace: "default", object: Self.pod("other", serviceAccount: "default"))
        _ = try await f.c.configMap("cm")
        func failure(_ ref: BoundObjectReference) async -> APIError? {
            await apiError { _ = try await f.issue("runner", TokenRequestSpec(boundObjectRef: ref)) }
        }
        let configMap = await failure(BoundObjectReference(apiVersion: "v1", kind: "ConfigMap", name: "cm"))
        #expect(configMap?.code == 400)
        #expect(configMap?.message == "cannot bind token to object of type /v1, Kind=ConfigMap")
        let deployment = await failure(BoundObjectReference(apiVersion: "apps/v1", kind: "Deployment", name: "d"))
        #expect(deployment?.message == "cannot bind token to object of type apps/v1, Kind=Deployment")
        let appsPod = await failure(BoundObjectReference(apiVersion: "apps/v1", kind: "Pod", name: "web"))
        #expect(appsPod?.code == 400)

        let recreated = await failure(BoundObjectReference(apiVersion: "v1", kind: "Pod", name: "web", uid: "old-uid"))
        #expect(recreated?.code == 409)
        #expect(recreated?.message == "Operation cannot be fulfilled on Pod \"web\": the UID in the bound object reference (old-uid) does not match the UID in record. The object might have been deleted and then recreated")
        let otherAccount = await failure(BoundObjectReference(apiVersion: "v1", kind: "Pod", name: "other"))
        #expect(otherAccount?.code == 400)
        #expect(otherAccount?.message == "cannot bind token for serviceaccount \"runner\" to pod running with different serviceaccount name.")
        let missing = await failure(BoundObjectReference(apiVersion: "v1", kind: "Secret", name: "nope"))
        #expect(missing?.code == 404)
        #expect(missing?.message == "secrets \"nope\" not found")
    }

    // MARK: request validation

    @Test(arguments: [(Int64(599), "less than 10 minutes"), (0, "less than 10 minutes"), (4_294_967_297, "larger than 2^32 seconds")])
    func anExpirationOutOfRangeIs422(_ seconds: Int64, _ detail: String) async throws {
        let f = try await Fixture()
        try await f.serviceAccount("builder")
        let e = await apiError { _ = try await f.issue("builder", TokenRequestSpec(expirationSeconds: seconds)) }
        #expect(e?.code == 422 && e?.reason == "Invalid")
        #expect(e?.message == "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: \(seconds): may not specify a duration \(detail)")
        let cause = e?.details?["causes"]?.arrayValue?.first
        #expect(cause?["field"] == "spec.expirationSeconds")
        #expect(cause?["reason"] == "FieldValueInvalid")
        #expect(e?.details?["kind"] == "TokenRequest" && e?.details?["group"] == "authentication.k8s.io")
    }

    @Test(arguments: [Int64(600), 4_294_967_296])
    func anExpirationInRangeIsKept(_ seconds: Int64) async throws {
        let f = try await Fixture()
        try await f.serviceAccount("builder")
        let response = try await f.issue("builder", TokenRequestSpec(expirationSeconds: seconds))
        #expect(response.spec?.expirationSeconds == seconds)
        let claims = try Self.claims(try #require(response.status?.token))
        #expect(claims["exp"]?.intValue == Int64(TestCluster.start.timeIntervalSince1970) + seconds)
    }

    @Test func theMaximumExpirationShortensLongerRequests() async throws {
        let f = try await Fixture(maxExpirationSeconds: 7200)
        try await f.serviceAccount("builder")
        let response = try await f.issue("builder", TokenRequestSpec(expirationSeconds: 86_400))
        #expect(response.spec?.expirationSeconds == 7200)
        #expect(response.status?.expirationTimestamp == "2023-11-15T00:13:20Z")
    }

    @Test func requestMetadataMustNameTheServiceAccount() async throws {
        let f = try await Fixture()
        try await f.serviceAccount("builder")
        let name = await apiError { _ = try await f.issue("builder", metadata: ObjectMeta(name: "other")) }
        #expect(name?.code == 422)
        #expect(name?.message == "TokenRequest.authentication.k8s.io \"builder\" is invalid: metadata.name: Invalid value: \"other\": must match the service account name if specified")
        let uid = await apiError { _ = try await f.issue("builder", metadata: ObjectMeta(uid: "stale")) }
        #expect(uid?.code == 409)
        #expect(uid?.message.hasPrefix("Operation cannot be fulfilled on TokenRequest.authentication.k8s.io \"builder\": the UID in the token request (stale) does not match") == true)
        let missing = await apiError { _ = try await f.issue("ghost") }
        #expect(missing?.code == 404 && missing?.message == "serviceaccounts \"ghost\" not found")
    }

    // MARK: legacy tokens

    @Test func aSecretBasedTokenAuthenticatesWhileTheSecretHoldsIt() async throws {
        let f = try await Fixture()
        let uid = try #require(try await f.serviceAccount("legacy").metadataUID)
        let token = try ServiceAccountToken.sign(claims: ServiceAccountToken.legacyClaims(
            namespace: "default", serviceAccountName: "legacy", serviceAccountUID: uid, secretName: "legacy-token"), with: Self.key)
        let secrets = f.c.r("secrets")
        _ = try await f.c.registry.create(secrets, namespace: "default", object: [
            "metadata": ["name": "legacy-token", "annotations": ["kubernetes.io/service-account.name": "legacy"]],
            "type": "kubernetes.io/service-account-token",
            "data": ["token": .string(Data(token.utf8).base64EncodedString())]])
        #expect(await f.authenticate(token) == f.user("legacy"))
        _ = try await f.c.registry.mergePatchRequest(secrets, namespace: "default", name: "legacy-token",
                                                     patch: ["data": ["token": .string(Data("other".utf8).base64EncodedString())]],
                                                     subresource: nil)
        #expect(await f.authenticate(token) == .invalid("Token does not match server's copy"))
        let off = ServiceAccountTokenAuthenticator(registry: f.c.registry, issuer: f.issuer, acceptsLegacyTokens: false)
        #expect(await off.authenticate(token, now: f.c.clock.now) == .notAServiceAccountToken)
    }

    // MARK: signing key

    @Test func theSigningKeyIsCreatedPrivateAndReloadedUnchanged() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orca-sa-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/pki/sa.key"
        let created = try ServiceAccountSigningKey.loadOrCreate(path: path)
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        let loaded = try ServiceAccountSigningKey.loadOrCreate(path: path)
        #expect(loaded.keyID == created.keyID)
        #expect(loaded.pemRepresentation == created.pemRepresentation)
        #expect(created.keyID.count == 43 && created.keyID.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })

        try Data("not a key".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: (any Error).self) { _ = try ServiceAccountSigningKey.loadOrCreate(path: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "not a key")
    }

    /// A fixed key against `openssl`: `rsa -pubout -outform DER | dgst -sha256` (kube's key ID),
    /// `rsa -modulus` (the JWK's n) and `dgst -sha256 -sign` (RS256 is deterministic).
    @Test func keyIDJWKAndSignatureMatchOpenSSL() throws {
        let key = try ServiceAccountSigningKey(pemRepresentation: Self.fixedKeyPEM)
        #expect(key.keyID == "8KSupGD_ht9OFax_-lkAt6CbMQvDTJ4kutq157AAa9s")
        #expect(key.jwk == [
            "use": "sig", "kty": "RSA", "alg": "RS256", "kid": "8KSupGD_ht9OFax_-lkAt6CbMQvDTJ4kutq157AAa9s", "e": "AQAB",
            "n": "xA71aOc2G-xqhjclT5Zso0gt6hTU48XlmTraq_xSAe7EChSZTcB5pii6MAHGJaj6jjaiWQ86PtLuzozV2DbmKzn-PFS2QQXhytRYdt-fmIiB_VbaHdDpBwHkrFR7H-lexkOODOxpsHiWZhcuQUEZcUjA7NFoUyZAFpUUmXJTu3ZWTqUFFQR4xg6_OjYv417-t4crYn88RhqZ0qSdgDWzecd8HCfEo6m0gbcv29lwmIIXjQr9xQf2uad3ApRBxuEP4qkdrxwwgfQGjSfOH57xh-p5_Ec0-YaO7kLa_de7fHARKyYZdE5vXZ6DtaBJLQZGhH3QYHuSMulBNcPkdLCzRQ",
        ])
        let signature = try key.signature(for: Data("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0".utf8))
        #expect(Base64URL.encode(signature) == "cZZBKHhq0NhBfIo7kbOkt6fMiPahCyghczC0ff8RmZGyxg2j4kBHDVO_PdC5w0X6GJrs-9kdFGq5Rql74iN-N1LvBAFJK9qMlgJZ1A06DTXZA6V-G4t-La06BV4qwEf-O6sqScY3pGoQGJNWa3xQorzKxbEIaM9flhIyzMl_YrwaXGKixxV2R2_IU80q_FQKdGtznUAkHpugP-nTV4_EZbojBB-rDZ6WMRiAQqWayIVVG9r78-eVSVJ3gD-jZC0GPbTCL5yJJCbV0jrTqEbNN9LVPXu4OfAkESGtBH93MYpyf34D60V9Hcydqw72kOcG797WHsr9nJI9JH-DnLZKeQ")
    }

    @Test func theJWKDecodesToTheSamePublicKey() async throws {
        let fromJWK = try ServiceAccountPublicKey(jwk: Self.key.jwk)
        #expect(fromJWK.derRepresentation == Self.key.publicKey.derRepresentation)
        #expect(fromJWK.keyID == Self.key.keyID)
        #expect(try ServiceAccountPublicKey(jwk: Self.otherKey.jwk).derRepresentation != Self.key.publicKey.derRepresentation)
        // A token verifies with the published key alone.
        let f = try await Fixture()
        try await f.serviceAccount("builder")
        let jws = try #require(ServiceAccountToken.Compact(try await f.token("builder")))
        try jws.verify(keys: [fromJWK])
        #expect(throws: (any Error).self) { try jws.verify(keys: [Self.otherKey.publicKey]) }
    }

    // MARK: discovery

    @Test func theDiscoveryDocumentsAreKubes() throws {
        let d = try OIDCDiscovery(issuer: Self.apiAudience, keys: [Self.key.publicKey], externalAddress: "127.0.0.1:6443")
        #expect(d.configuration == [
            "issuer": .string(Self.apiAudience),
            "jwks_uri": "https://127.0.0.1:6443/openid/v1/jwks",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        ])
        #expect(d.keySet == ["keys": [Self.key.jwk]])
        #expect(try OIDCDiscovery(issuer: Self.apiAudience, keys: [Self.key.publicKey]).jwksURI == "\(Self.apiAudience)/openid/v1/jwks")
        #expect(try OIDCDiscovery(issuer: Self.apiAudience, keys: [Self.key.publicKey], jwksURI: "https://keys.example.com/jwks",
                                  externalAddress: "127.0.0.1:6443").jwksURI == "https://keys.example.com/jwks")
        for bad in ["http://kubernetes.default.svc", "https://k8s.example.com?x=1", "https://k8s.example.com#f"] {
            #expect(throws: (any Error).self) { _ = try OIDCDiscovery(issuer: bad, keys: [Self.key.publicKey]) }
        }
    }

    /// A test-only RSA key (`openssl genrsa -traditional 2048`).
    static let fixedKeyPEM = """
        -----BEGIN RSA PRIVATE KEY-----
        MIIEpAIBAAKCAQEAxA71aOc2G+xqhjclT5Zso0gt6hTU48XlmTraq/xSAe7EChSZ
        TcB5pii6MAHGJaj6jjaiWQ86PtLuzozV2DbmKzn+PFS2QQXhytRYdt+fmIiB/Vba
        HdDpBwHkrFR7H+lexkOODOxpsHiWZhcuQUEZcUjA7NFoUyZAFpUUmXJTu3ZWTqUF
        FQR4xg6/OjYv417+t4crYn88RhqZ0qSdgDWzecd8HCfEo6m0gbcv29lwmIIXjQr9
        xQf2uad3ApRBxuEP4qkdrxwwgfQGjSfOH57xh+p5/Ec0+YaO7kLa/de7fHARKyYZ
        dE5vXZ6DtaBJLQZGhH3QYHuSMulBNcPkdLCzRQIDAQABAoIBACdU5ue2JrVAXvhw
        /LO0NjQliUyCBFlzfIWaeH7zPhJ0L3DkRAMEn4L1fbCe0n0Aos8/557dPq6Wy2C1
        gTsAfHlkh3vb9Lojr3Hs2phycUZ88DL+JwC/RdhpiVIHGrJCs4grykYOcX99GZL+
        iIF/yVZgJY/8zKSNsmK1Yq4L8P9UujXYVRHN1PHUDlpfMXhL+PGRkT3IzXZxpO9P
        RQISamdvlCkUgrviu2A4AHipik2PTj2FxWbVxGiLY9MdIitl44hJEu/mcp5EMawM
        8aBthI9kBV3k3dqNTlCDwciFoDHJuofSzPD0gJcDwD8G0WCYYHQmZb5JdT9thiH+
        4JaTaBECgYEA+nptEtXMGoF+3RvSs79Z9JnQ4/r0gHBUXvk2qxnfwUy9fhEo+deg
        LAEuKtHoC1v0/OtGCkaCOgMNdJRn0eNUSQlSh8tPdf24sarhIyn6ZnaivBem94sd
        VW+hfF8LIvVVizT0uo8ZmKPnEPJFcbRkkw9EVWm8QXLRzmeMQPc7UYkCgYEAyGFq
        GLNFhCzsfFLfcV0Nb833fgZKj5xZ5LpyT+ANhc0Vmuu4jYNK9jHw/j/3UMAs9U8B
        ia9GhMGWXvLVOp1TQngqClbFT0OUqGHUsEmXPpht9YZDWM9EsGtroe1tKY/ggImz
        nA9JACGKhdH3hSDhAGOJpWXszMaKg28IAo9c0N0CgYEAnoDahRDGF//aSBFTRGvS
        gPbVOW+VSbHLsk4CSkQVVD07rIsvYusQcMhObspmDMokPeikadw0jIFiAmPnTuqM
        a6t6jnQZ1JC6T7PSxG3MBwsL7/sHrZ5a8bWyewGqCnU1rOHV/DiR+gW+Mvsc9tcw
        zd7bXzGJ7+C44+Si3HmXEAECgYA4GjYnVkIXYLCRmm5fAguaCxPJIB/OF5t/k8gf
        nv6KQMJUzrysOl9JkPAFb4lh/XxY7lbi4sUetEjSqrCSqau/B3/VxzeVGrnLbyCq
        fuAusWTQAlhmzBlSP7Ex9BTFNzhHJMa54fmxZLKxBvmDN5JnlnbabTAgoVH0vKiE
        dvkorQKBgQD4BC4NBHWzsrwxYm1a5u8mw1KZMSyGPwQUeFtHFx876hEtQpKL7sX+
        D6riqNJxLACh+V59mIsRniua/koSTdHIo2+PqfM7H3qexHm8IbvOovPd/nrOlem+
        vQTxpg5FD6t2DNgDWNv+bd7vYzMLL/EEzf6g07zU4lrAVr5sUgJgSg==
        -----END RSA PRIVATE KEY-----
        """
}
