import Foundation
import OrcaAPI
import OrcaStore
import Testing
@testable import OrcaAPIServer

/// Secrets encrypted at rest (kube-apiserver's `--encryption-provider-config`): the stored
/// format, key rotation, failures that must not crash, and the configuration file.
@Suite struct EncryptionAtRestTests {
    static let key1 = EncryptionConfiguration.Key(name: "key1", secret: (0..<32).map { UInt8($0) })
    static let key2 = EncryptionConfiguration.Key(name: "key2", secret: [UInt8](repeating: 7, count: 32))
    static let password = "hunter2-topsecret"
    static var encodedPassword: String { Data(password.utf8).base64EncodedString() }

    /// A configuration for Secrets only.
    static func config(_ providers: EncryptionConfiguration.Provider...) -> EncryptionConfiguration {
        EncryptionConfiguration(resources: [.init(resources: ["secrets"], providers: providers)])
    }

    static func secret(_ name: String) -> JSONValue {
        ["metadata": ["name": .string(name)], "data": ["password": .string(encodedPassword)]]
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
    /// Whether the stored bytes begin with `prefix`, compared as bytes: the ciphertext after it
    /// is random, and a combining character there would merge into the prefix's last Character.
    static func starts(_ bytes: [UInt8], with prefix: String) -> Bool { bytes.starts(with: Array(prefix.utf8)) }

    /// The bytes stored for Secret `default/<name>`.
    static func stored(_ store: MemoryKVStore, _ name: String) async throws -> [UInt8] {
        let kv = try await store.get("/registry/secrets/default/\(name)", revision: nil)
        return try #require(kv).value
    }

    // MARK: the registry

    @Test(arguments: ["aesgcm", "aescbc"])
    func secretsAreStoredEncryptedAndReadBack(provider: String) async throws {
        let p: EncryptionConfiguration.Provider = provider == "aesgcm" ? .aesgcm(keys: [Self.key1]) : .aescbc(keys: [Self.key1])
        let c = try await TestCluster(encryption: Self.config(p, .identity))
        let created = try await c.registry.create(c.r("secrets"), namespace: "default", object: Self.secret("db"))

        let rawBytes = try await Self.stored(c.store, "db")
        let raw = Self.text(rawBytes)
        #expect(Self.starts(rawBytes, with: "k8s:enc:\(provider):v1:key1:"))
        #expect(!raw.contains(Self.encodedPassword))
        #expect(!raw.contains("Secret"))

        let got = try await c.registry.get(c.r("secrets"), namespace: "default", name: "db")
        #expect(got == created)
        #expect(got[path: ["data", "password"]]?.stringValue == Self.encodedPassword)
        let list = try await c.registry.list(c.r("secrets"), namespace: "default", options: ListOptions())
        #expect(list["items"]?.arrayValue == [created])

        // Resources the configuration does not name stay plaintext.
        try await c.configMap("plain")
        let cm = try await c.store.get("/registry/configmaps/default/plain", revision: nil)
        let cmBytes = try #require(cm).value
        #expect(Self.starts(cmBytes, with: "{"))
    }

    @Test func watchEventsAreDecrypted() async throws {
        let c = try await TestCluster(encryption: Self.config(.aesgcm(keys: [Self.key1])))
        let created = try await c.registry.create(c.r("secrets"), namespace: "default", object: Self.secret("db"))
        var options = ListOptions()
        options.resourceVersion = created.resourceVersion
        let stream = try await c.registry.watch(c.r("secrets"), namespace: "default", options: options)
        var changed = created
        changed["data"] = ["password": "bmV3"]
        _ = try await c.registry.update(c.r("secrets"), namespace: "default", name: "db", object: changed)
        _ = try await c.registry.delete(c.r("secrets"), namespace: "default", name: "db")
        var it = stream.makeAsyncIterator()
        let first = try await it.next()
        let modified = try #require(first)
        #expect(modified.type == "MODIFIED")
        #expect(modified.object[path: ["data", "password"]] == "bmV3")
        let second = try await it.next()
        let deleted = try #require(second)
        #expect(deleted.type == "DELETED")
        #expect(deleted.object[path: ["data", "password"]] == "bmV3")
    }

    @Test func identityOnlyStoresPlaintext() async throws {
        let c = try await TestCluster(encryption: Self.config(.identity))
        _ = try await c.registry.create(c.r("secrets"), namespace: "default", object: Self.secret("db"))
        let raw = try await Self.stored(c.store, "db")
        #expect(Self.text(raw).contains(Self.encodedPassword))
        #expect(try JSONValue.parse(raw)["kind"] == "Secret")
    }

    @Test func rotationReadsTheOldKeyAndReplaceReencryptsUnderTheNewOne() async throws {
        let c = try await TestCluster(encryption: Self.config(.aesgcm(keys: [Self.key1]), .identity))
        let created = try await c.registry.create(c.r("secrets"), namespace: "default", object: Self.secret("db"))
        let first = try await Self.stored(c.store, "db")
        #expect(Self.starts(first, with: "k8s:enc:aesgcm:v1:key1:"))

        // The server restarts with key2 first and key1 still listed.
        let rotated = Registry(store: c.store, strategies: Strategies.standard,
                               encryption: Self.config(.aesgcm(keys: [Self.key2]), .aesgcm(keys: [Self.key1])))
        let old = try await rotated.get(c.r("secrets"), namespace: "default", name: "db")
        #expect(old == created)
        let before = try await Self.stored(c.store, "db")
        #expect(rotated.transformers["secrets"]?.needsReencryption(stored: before) == true)

        // `kubectl replace` with the unchanged object stores it again, now under key2.
        let replaced = try await rotated.update(c.r("secrets"), namespace: "default", name: "db", object: old)
        #expect(replaced.resourceVersion != created.resourceVersion)
        let after = try await Self.stored(c.store, "db")
        #expect(Self.starts(after, with: "k8s:enc:aesgcm:v1:key2:"))
        #expect(rotated.transformers["secrets"]?.needsReencryption(stored: after) == false)
        let reread = try await rotated.get(c.r("secrets"), namespace: "default", name: "db")
        #expect(reread[path: ["data", "password"]]?.stringValue == Self.encodedPassword)

        // Once current, an unchanged replace is a no-op again.
        let again = try await rotated.update(c.r("secrets"), namespace: "default", name: "db", object: replaced)
        #expect(again.resourceVersion == replaced.resourceVersion)

        // A server that only knows key1 cannot read it any more: a 500, not a crash.
        let stale = Registry(store: c.store, strategies: Strategies.standard, encryption: Self.config(.aesgcm(keys: [Self.key1])))
        let e = await apiError { _ = try await stale.get(c.r("secrets"), namespace: "default", name: "db") }
        #expect(e?.code == 500)
        #expect(e?.message.contains(#"aesgcm (v1) key "key2""#) == true)
    }

    @Test func plaintextFromBeforeEncryptionIsReadAndEncryptedOnReplace() async throws {
        let c = try await TestCluster()
        let created = try await c.registry.create(c.r("secrets"), namespace: "default", object: Self.secret("db"))
        let plain = try await Self.stored(c.store, "db")
        #expect(Self.starts(plain, with: "{"))

        let encrypting = Registry(store: c.store, strategies: Strategies.standard, encryption: .generated())
        let got = try await encrypting.get(c.r("secrets"), namespace: "default", name: "db")
        #expect(got == created)
        _ = try await encrypting.update(c.r("secrets"), namespace: "default", name: "db", object: got)
        let encrypted = try await Self.stored(c.store, "db")
        #expect(Self.starts(encrypted, with: "k8s:enc:aesgcm:v1:key1:"))

        // Without `identity` listed, plaintext is not read (as in Kubernetes).
        _ = try await c.registry.create(c.r("secrets"), namespace: "default", object: Self.secret("plain"))
        let strict = Registry(store: c.store, strategies: Strategies.standard, encryption: Self.config(.aesgcm(keys: [Self.key1])))
        let e = await apiError { _ = try await strict.get(c.r("secrets"), namespace: "default", name: "plain") }
        #expect(e?.code == 500)
        #expect(e?.message.contains("identity provider is not configured") == true)
    }

    @Test(arguments: ["aesgcm", "aescbc"])
    func tamperedDataIsAnInternalErrorNamingTheObject(provider: String) async throws {
        let p: EncryptionConfiguration.Provider = provider == "aesgcm" ? .aesgcm(keys: [Self.key1]) : .aescbc(keys: [Self.key1])
        let c = try await TestCluster(encryption: Self.config(p))
        _ = try await c.registry.create(c.r("secrets"), namespace: "default", object: Self.secret("good"))
        _ = try await c.registry.create(c.r("secrets"), namespace: "default", object: Self.secret("bad"))
        try await c.configMap("cm")
        let key = "/registry/secrets/default/bad"
        let current = try await c.store.get(key, revision: nil)
        let kv = try #require(current)
        var bytes = kv.value
        bytes[bytes.count - 20] ^= 0x01
        _ = try await c.store.update(key, value: bytes, expectedRevision: kv.modRevision)

        let e = await apiError { _ = try await c.registry.get(c.r("secrets"), namespace: "default", name: "bad") }
        #expect(e?.code == 500)
        #expect(e?.reason == "InternalError")
        #expect(e?.message.contains(#""/registry/secrets/default/bad""#) == true)
        #expect(e?.message.contains(Self.encodedPassword) == false)

        // The list fails naming the object; the other Secret and other resources still read.
        let listError = await apiError { _ = try await c.registry.list(c.r("secrets"), namespace: "default", options: ListOptions()) }
        #expect(listError?.code == 500)
        #expect(listError?.message.contains("/registry/secrets/default/bad") == true)
        let good = try await c.registry.get(c.r("secrets"), namespace: "default", name: "good")
        #expect(good[path: ["data", "password"]]?.stringValue == Self.encodedPassword)
        let configMaps = try await c.registry.list(c.r("configmaps"), namespace: "default", options: ListOptions())
        #expect(configMaps["items"]?.arrayValue?.count == 1)
    }

    @Test func aesgcmValueCopiedToAnotherKeyDoesNotDecrypt() async throws {
        let c = try await TestCluster(encryption: Self.config(.aesgcm(keys: [Self.key1])))
        _ = try await c.registry.create(c.r("secrets"), namespace: "default", object: Self.secret("a"))
        let copied = try await Self.stored(c.store, "a")
        _ = try await c.store.create("/registry/secrets/default/b", value: copied)
        let e = await apiError { _ = try await c.registry.get(c.r("secrets"), namespace: "default", name: "b") }
        #expect(e?.code == 500)
        #expect(e?.message.contains("message authentication failed") == true)
        let a = try await c.registry.get(c.r("secrets"), namespace: "default", name: "a")
        #expect(a.metadataName == "a")
    }

    // MARK: the transformer

    /// Written by Python's `cryptography` (AESGCM; AES-CBC + PKCS7) in kube-apiserver's
    /// format, key bytes 0…31, storage key `/registry/secrets/default/vector`.
    static let vectorPlaintext = #"{"apiVersion":"v1","data":{"password":"aHVudGVyMg=="},"kind":"Secret","metadata":{"name":"vector","namespace":"default","uid":"u1"},"type":"Opaque"}"#
    static let vectors: [(String, String)] = [
        ("aesgcm", "azhzOmVuYzphZXNnY206djE6a2V5MTpkZWZnaGlqa2xtbm8zOb8WEL8z7E0LMIb4X0iLc+AqKO8NhxOF69dqi8LWO+OGMqRuKLlltaUNW7oUs4J8ZqXFXWZjQ5OfyPTVo/bva/6+evRnGWjuG4wncP5QxF4DPVrGqOjk5dNAoRhnISOsXbAQCiDdDcObvaCAN5qMR03haq0NmxiQDPrV+I4qsgO95YRLRjtbrGtsJ8bwPfPjot87Pq10+O8LwingvZWbbX8M5Q=="),
        ("aescbc", "azhzOmVuYzphZXNjYmM6djE6a2V5MTrIycrLzM3Oz9DR0tPU1dbXslY9Jk8j62Y/ACnlgRHSv1wcS0dmuBCi9lWVl30V28jSW3iZ2lplKbGktvR+gTQ5if9K4fOweFPS1iYsr2/hwMzeJea+SUIt1CIFn0YEaetEQqnD2CqFK97Fk4AgtZJb2Klpq06RZd+3XZ4DIEvdDuPozRJkcftqoqu4ntCMt/UBTkOSek4wyx64yV7j/JYBlcdUFdVG4NlySoJny679ig=="),
    ]

    @Test(arguments: vectors)
    func decryptsDataWrittenByAnotherImplementation(provider: String, base64: String) async throws {
        let stored = try #require(Data(base64Encoded: base64).map { Array($0) })
        let p: EncryptionConfiguration.Provider = provider == "aesgcm" ? .aesgcm(keys: [Self.key1]) : .aescbc(keys: [Self.key1])
        let t = StorageTransformer(providers: [p])
        let plaintext = try t.decrypt(stored, context: "/registry/secrets/default/vector")
        #expect(Self.text(plaintext) == Self.vectorPlaintext)

        let c = try await TestCluster(encryption: Self.config(p))
        _ = try await c.store.create("/registry/secrets/default/vector", value: stored)
        let got = try await c.registry.get(c.r("secrets"), namespace: "default", name: "vector")
        #expect(got[path: ["data", "password"]] == "aHVudGVyMg==")
    }

    @Test(arguments: ["aesgcm", "aescbc"])
    func transformerRoundTripsAndRejectsBadData(provider: String) throws {
        let p: EncryptionConfiguration.Provider = provider == "aesgcm" ? .aesgcm(keys: [Self.key1]) : .aescbc(keys: [Self.key1])
        let t = StorageTransformer(providers: [p])
        let plaintext = Array(#"{"kind":"Secret"}"#.utf8)
        let stored = try t.encrypt(plaintext, context: "/registry/secrets/ns/a")
        #expect(try t.decrypt(stored, context: "/registry/secrets/ns/a") == plaintext)
        #expect(try t.encrypt(plaintext, context: "/registry/secrets/ns/a") != stored, "a fresh nonce or IV every time")
        #expect(!t.needsReencryption(stored: stored))
        #expect(t.needsReencryption(stored: plaintext))

        let prefix = Array("k8s:enc:\(provider):v1:key1:".utf8)
        for bad in [prefix, prefix + [1, 2, 3], prefix + [UInt8](repeating: 0, count: 17), Array(stored.dropLast())] {
            #expect(throws: OrcaError.self) { try t.decrypt(bad, context: "/registry/secrets/ns/a") }
        }
        let unknown = Array("k8s:enc:aesgcm:v1:gone:".utf8) + [UInt8](repeating: 0, count: 40)
        let error = #expect(throws: OrcaError.self) { try t.decrypt(unknown, context: "/registry/secrets/ns/a") }
        #expect(error?.message.contains(#"key "gone""#) == true)
    }

    @Test func aesgcmAuthenticatesTheStorageKey() throws {
        let t = StorageTransformer(providers: [.aesgcm(keys: [Self.key1])])
        let stored = try t.encrypt(Array("x".utf8), context: "/registry/secrets/ns/a")
        #expect(throws: OrcaError.self) { try t.decrypt(stored, context: "/registry/secrets/ns/b") }
    }

    @Test func everyListedKeyDecryptsAndOnlyTheFirstIsCurrent() throws {
        let old = StorageTransformer(providers: [.aescbc(keys: [Self.key1])])
        let rotated = StorageTransformer(providers: [.aesgcm(keys: [Self.key2, Self.key1]), .aescbc(keys: [Self.key1]), .identity])
        let byOld = try old.encrypt(Array("old".utf8), context: "k")
        #expect(try rotated.decrypt(byOld, context: "k") == Array("old".utf8))
        #expect(rotated.needsReencryption(stored: byOld))
        #expect(try rotated.decrypt(Array("{}".utf8), context: "k") == Array("{}".utf8))
        #expect(rotated.needsReencryption(stored: Array("{}".utf8)))
        let byNew = try rotated.encrypt(Array("new".utf8), context: "k")
        #expect(Self.starts(byNew, with: "k8s:enc:aesgcm:v1:key2:"))
        #expect(!rotated.needsReencryption(stored: byNew))
        #expect(!"\(rotated)".contains("secret") && "\(Self.key1)".contains("<redacted>"))
    }

    // MARK: the configuration file

    static let kubeDocsExample = """
        apiVersion: apiserver.config.k8s.io/v1
        kind: EncryptionConfiguration
        resources:
          - resources:
              - secrets
              - configmaps
            providers:
              - aesgcm:
                  keys:
                    - name: key1
                      secret: c2VjcmV0IGlzIHNlY3VyZQ==
                    - name: key2
                      secret: dGhpcyBpcyBwYXNzd29yZA==
              - aescbc:
                  keys:
                    - name: "1"
                      secret: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
              - identity: {}
        """

    @Test func parsesKubernetesYAMLAndJSON() throws {
        let yaml = try EncryptionConfiguration.parse(Self.kubeDocsExample)
        #expect(yaml.resources.count == 1)
        #expect(yaml.resources[0].resources == ["secrets", "configmaps"])
        #expect(yaml.resources[0].providers == [
            .aesgcm(keys: [.init(name: "key1", secret: Array("secret is secure".utf8)), .init(name: "key2", secret: Array("this is password".utf8))]),
            .aescbc(keys: [Self.key1Named("1")]),
            .identity,
        ])
        let json = try EncryptionConfiguration.parse(#"""
            {"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration",
             "resources": [{"resources": ["secrets"], "providers": [{"aescbc": {"keys": [{"name": "1", "secret": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}]}}, {"identity": {}}]}]}
            """#)
        #expect(json == Self.config(.aescbc(keys: [Self.key1Named("1")]), .identity))
        #expect(try EncryptionConfiguration.parse(yaml.yaml) == yaml)
    }

    static func key1Named(_ name: String) -> EncryptionConfiguration.Key {
        .init(name: name, secret: key1.secret)
    }

    /// A configuration whose `providers` is the flow sequence `providers`.
    static func document(providers: String, kind: String = "EncryptionConfiguration") -> String {
        """
        apiVersion: apiserver.config.k8s.io/v1
        kind: \(kind)
        resources:
          - resources: [secrets]
            providers: [\(providers)]
        """
    }

    static let badProviders: [(String, String)] = [
        (#"{aesgcm: {keys: [{name: k, secret: "not base64!!"}]}}"#, "secrets must be base64 encoded"),
        (#"{aesgcm: {keys: [{name: k, secret: "YWJjZGVmZ2g="}]}}"#, "secret is not of the expected length, got 8, expected one of [16, 24, 32]"),
        (#"{aescbc: {keys: [{name: k, secret: "YWJjZGVmZ2g="}]}}"#, "secret is not of the expected length, got 8"),
        (#"{aesgcm: {keys: [{name: "", secret: "c2VjcmV0IGlzIHNlY3VyZQ=="}]}}"#, "key name is required"),
        (#"{aesgcm: {keys: [{name: a, secret: "c2VjcmV0IGlzIHNlY3VyZQ=="}, {name: a, secret: "dGhpcyBpcyBwYXNzd29yZA=="}]}}"#, "key names must be unique"),
        (#"{aesgcm: {keys: []}}"#, "at least one key is required"),
        (#"{secretbox: {keys: [{name: k, secret: "c2VjcmV0IGlzIHNlY3VyZQ=="}]}}"#, "Orca supports the aesgcm, aescbc and identity providers"),
        (#"{identity: {}, aesgcm: {keys: [{name: a, secret: "c2VjcmV0IGlzIHNlY3VyZQ=="}]}}"#, "more than one provider specified in a single element"),
        (#"{}"#, "one of aesgcm, aescbc, secretbox, kms, identity is required"),
        ("", "at least one provider is required"),
    ]

    @Test(arguments: badProviders)
    func invalidConfigurationsAreRejected(providers: String, message: String) throws {
        let error = #expect(throws: OrcaError.self) { try EncryptionConfiguration.parse(Self.document(providers: providers)) }
        #expect(error?.code == .invalid)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("YWJjZGVmZ2g=") == false, "never the secret")
    }

    @Test func invalidDocumentsAreRejected() throws {
        let kind = #expect(throws: OrcaError.self) {
            try EncryptionConfiguration.parse(Self.document(providers: "{identity: {}}", kind: "Secret"))
        }
        #expect(kind?.message.contains("expected apiVersion apiserver.config.k8s.io/v1 and kind EncryptionConfiguration") == true)
        let yaml = #expect(throws: OrcaError.self) { try EncryptionConfiguration.parse("resources: [") }
        #expect(yaml?.message.contains("not valid YAML or JSON") == true)
        let names = #expect(throws: OrcaError.self) {
            try EncryptionConfiguration.parse(Self.document(providers: "{identity: {}}").replacingOccurrences(of: "[secrets]", with: "[Secrets, '*']"))
        }
        #expect(names?.message.contains("resource name should not contain capital letters") == true)
        #expect(names?.message.contains("use '*.' to encrypt all the resources from core API group") == true)
    }

    @Test func resourcesMatchExactlyThenByGroupThenAll() {
        let cfg = EncryptionConfiguration(resources: [
            .init(resources: ["secrets"], providers: [.aesgcm(keys: [Self.key1])]),
            .init(resources: ["*.apps"], providers: [.aescbc(keys: [Self.key1])]),
            .init(resources: ["*.*"], providers: [.identity]),
            .init(resources: ["deployments.apps"], providers: [.aesgcm(keys: [Self.key2])]),
        ])
        #expect(cfg.providers(for: "secrets") == [.aesgcm(keys: [Self.key1])])
        #expect(cfg.providers(for: "deployments.apps") == [.aesgcm(keys: [Self.key2])])
        #expect(cfg.providers(for: "replicasets.apps") == [.aescbc(keys: [Self.key1])])
        #expect(cfg.providers(for: "configmaps") == [.identity])
        let core = EncryptionConfiguration(resources: [.init(resources: ["*."], providers: [.identity])])
        #expect(core.providers(for: "configmaps") == [.identity])
        #expect(core.providers(for: "deployments.apps") == nil)
        #expect(Self.config(.identity).providers(for: "configmaps") == nil)
    }

    @Test func loadOrCreateWritesAPrivateKeyOnceAndKeepsIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orca-encryption-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/tls/encryption-config.yaml"
        let first = try EncryptionConfiguration.loadOrCreate(path: path)
        let providers = try #require(first.providers(for: "secrets"))
        #expect(providers.count == 2)
        guard case .aesgcm(let keys) = providers[0] else { Issue.record("expected aesgcm first"); return }
        #expect(keys.map(\.name) == ["key1"] && keys[0].secret.count == 32)
        #expect(providers[1] == .identity)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"))
        #expect(try EncryptionConfiguration.loadOrCreate(path: path) == first)
        #expect(EncryptionConfiguration.generated() != first, "a new random key each time")
    }
}
