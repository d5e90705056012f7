import Foundation
import OrcaAPI
import OrcaStore

/// Stores API objects in a `KVStore` with Kubernetes semantics: metadata, resourceVersion,
/// optimistic concurrency, generation, finalizers and graceful deletion.
///
/// Objects are handled as JSON (`JSONValue`); per-resource rules live in `ResourceStrategy`.
public final class Registry: Sendable {
    public let store: any KVStore
    /// The resources served: built-in ones and those of established CustomResourceDefinitions.
    public let served: ServedResources
    /// Every resource served now.
    public var catalog: ResourceCatalog { served.catalog }
    let strategies: [String: any ResourceStrategy]
    let clock: @Sendable () -> Date
    let newUID: @Sendable () -> String
    /// Where Services' cluster IPs and node ports come from.
    public let serviceNetwork: ServiceNetwork
    /// The admission plugins every create, update and delete goes through.
    public let admission: AdmissionChain
    /// Encryption at rest, by group resource (`secrets`): what `encryption` covers.
    /// Resources not in it are stored unencrypted.
    public let transformers: [String: StorageTransformer]
    /// The same, by store prefix (`/registry/secrets/`), to find a stored value's transformer
    /// from its key (watch events carry only keys).
    let transformerPrefixes: [(prefix: String, transformer: StorageTransformer)]

    /// `encryption` is kube-apiserver's `--encryption-provider-config` (nil: nothing is
    /// encrypted).
    public init(store: any KVStore, catalog: ResourceCatalog = .standard,
                strategies: [String: any ResourceStrategy] = [:],
                clock: @escaping @Sendable () -> Date = { Date() },
                newUID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() },
                encryption: EncryptionConfiguration? = nil, serviceNetwork: ServiceNetwork = .standard,
                admission: AdmissionChain = AdmissionChain()) {
        self.store = store
        self.admission = admission
        self.serviceNetwork = serviceNetwork
        self.served = ServedResources(builtIn: catalog)
        self.strategies = strategies
        self.clock = clock
        self.newUID = newUID
        var transformers: [String: StorageTransformer] = [:]
        var prefixes: [(prefix: String, transformer: StorageTransformer)] = []
        if let encryption {
            for r in catalog.resources where transformers[r.groupResource] == nil {
                if let t = encryption.transformer(for: r.groupResource) {
                    transformers[r.groupResource] = t
                    prefixes.append((r.storePrefix, t))
                }
            }
        }
        self.transformers = transformers
        self.transformerPrefixes = prefixes
    }

    /// The allocator of Services' addresses.
    var serviceAllocator: ServiceAddressAllocator { ServiceAddressAllocator(store: store, network: serviceNetwork) }

    /// Whether `r` is core/v1 Services (whose writes claim and release addresses).
    static func isService(_ r: ResourceType) -> Bool { r.group.isEmpty && r.resource == "services" }

    /// Whether `r` is `customresourcedefinitions.apiextensions.k8s.io`.
    static func isCustomResourceDefinition(_ r: ResourceType) -> Bool {
        r.group == "apiextensions.k8s.io" && r.resource == "customresourcedefinitions"
    }

    func strategy(_ r: ResourceType) -> any ResourceStrategy {
        if let s = strategies[r.groupResource] { return s }
        if let custom = served.customResource(r) { return CustomResourceStrategy(custom) }
        return GenericStrategy()
    }

    func context(_ r: ResourceType, user: UserInfo? = nil) -> StrategyContext { StrategyContext(resource: r, now: clock(), user: user) }

    // MARK: encoding

    /// The encryption of the values stored under `key` (`/registry/secrets/default/db`), or
    /// nil when that resource is stored unencrypted. Store prefixes end with `/` and no
    /// resource's prefix starts another's, so at most one matches.
    func transformer(forKey key: String) -> StorageTransformer? {
        transformerPrefixes.first { key.hasPrefix($0.prefix) }?.transformer
    }

    /// Decodes a stored value (decrypting it when its resource is encrypted at rest, with its
    /// storage key as the context) and stamps its resourceVersion. A value that does not
    /// decrypt is a 500 naming its key, as in Kubernetes; other objects are not affected.
    func decode(_ kv: KeyValue) throws -> JSONValue {
        var obj: JSONValue
        if let transformer = self.transformer(forKey: kv.key) {
            let bytes: [UInt8]
            do {
                bytes = try transformer.decrypt(kv.value, context: kv.key)
            } catch {
                throw APIError.internalError("unable to transform key \"\(kv.key)\": \(Registry.describe(error))")
            }
            do {
                obj = try JSONValue.parse(bytes)
            } catch {
                // Never echo the decrypted bytes (the parser's message may quote them).
                throw APIError.internalError("unable to decode the object stored at key \"\(kv.key)\": not valid JSON")
            }
        } else {
            obj = try JSONValue.parse(kv.value)
        }
        obj.resourceVersion = String(kv.modRevision)
        return obj
    }

    /// An error of a transformer, without the code prefix of an `OrcaError`.
    static func describe(_ error: any Error) -> String {
        (error as? OrcaError)?.message ?? "\(error)"
    }

    /// Whether the value stored at `key` (at `revision`) was written by an encryption
    /// provider or key other than the first one, so even a write that changes nothing
    /// stores it again (how `kubectl replace` re-encrypts after a key rotation).
    func storedNeedsReencryption(key: String, revision: Int64) async throws -> Bool {
        guard let transformer = self.transformer(forKey: key) else { return false }
        guard let kv = try await store.get(key, revision: nil), kv.modRevision == revision else { return false }
        return transformer.needsReencryption(stored: kv.value)
    }

    /// The largest object stored (etcd's default request limit, 1.5 MiB).
    public static let maxStoredObjectBytes = 1_572_864

    /// The stored form of `object` at store key `key` (encrypted when its resource is
    /// encrypted at rest, with `key` as the context); 413 when its JSON is over
    /// `maxStoredObjectBytes` (checked before encryption, so the limit is the same either way).
    func encode(_ object: JSONValue, key: String) throws -> [UInt8] {
        var o = object
        o[path: ["metadata", "resourceVersion"]] = nil
        let bytes = o.encoded()
        guard bytes.count <= Self.maxStoredObjectBytes else {
            throw APIError(code: 413, reason: "RequestEntityTooLarge",
                           message: "Request entity too large: the object is \(bytes.count) bytes, the limit for a stored object is \(Self.maxStoredObjectBytes)")
        }
        guard let transformer = self.transformer(forKey: key) else { return bytes }
        do {
            return try transformer.encrypt(bytes, context: key)
        } catch {
            throw APIError.internalError("unable to transform key \"\(key)\": \(Registry.describe(error))")
        }
    }

    // MARK: get

    /// The stored object, or 404.
    public func get(_ r: ResourceType, namespace: String?, name: String) async throws -> JSONValue {
        guard let kv = try await store.get(r.storeKey(namespace: namespace, name: name), revision: nil) else {
            throw APIError.notFound(r, name)
        }
        return try await served(try decode(kv), as: r)
    }

    /// The stored object and its revision, or nil.
    func read(_ r: ResourceType, namespace: String?, name: String) async throws -> (JSONValue, Int64)? {
        guard let kv = try await store.get(r.storeKey(namespace: namespace, name: name), revision: nil) else { return nil }
        return (try await served(try decode(kv), as: r), kv.modRevision)
    }

    // MARK: create

    /// Creates an object; returns it as stored.
    public func create(_ r: ResourceType, namespace: String?, object input: JSONValue, dryRun: Bool = false,
                       user: UserInfo? = nil) async throws -> JSONValue {
        var obj = try checkTypeMeta(r, input)
        guard obj.objectValue != nil else { throw APIError.badRequest("the body of the request must be an object") }
        if r.namespaced {
            let ns = namespace ?? obj.metadataNamespace ?? "default"
            if let bodyNS = obj.metadataNamespace, !bodyNS.isEmpty, bodyNS != ns {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            obj.metadataNamespace = ns
            try await requireActiveNamespace(ns, creating: r)
        } else {
            obj[path: ["metadata", "namespace"]] = nil
        }
        var attributes = AdmissionAttributes(resource: r, operation: .create, namespace: obj.metadataNamespace,
                                             name: obj.metadataName ?? "", object: obj, user: user, dryRun: dryRun)
        try await admission.admit(&attributes, registry: self)
        obj = attributes.object ?? obj
        let generated = (obj.metadataName ?? "").isEmpty ? obj[path: ["metadata", "generateName"]]?.stringValue : nil
        if let generated { obj.metadataName = generated + Registry.randomSuffix() }
        let now = clock()
        obj[path: ["metadata", "uid"]] = .string(newUID())
        obj[path: ["metadata", "creationTimestamp"]] = .string(KubernetesTime.string(now))
        obj[path: ["metadata", "resourceVersion"]] = nil
        obj[path: ["metadata", "deletionTimestamp"]] = nil
        obj[path: ["metadata", "deletionGracePeriodSeconds"]] = nil
        obj[path: ["metadata", "generation"]] = tracksGeneration(r) ? .int(1) : nil
        let s = strategy(r)
        try s.prepareForCreate(&obj, context: context(r, user: user))
        try TimeFields.normalize(&obj, definition: OpenAPISchema.definitionName(apiVersion: r.apiVersion, kind: r.kind))
        var causes = ObjectMetaRules.validate(obj, resource: r)
        causes += s.validate(obj, old: nil)
        if !causes.isEmpty { throw APIError.invalid(r, obj.metadataName ?? "", causes) }
        attributes.object = obj
        attributes.name = obj.metadataName ?? ""
        try await admission.validate(attributes, registry: self)
        if let custom = served.customResource(r), custom.terminating {
            throw APIError.methodNotAllowed("create not allowed while custom resource definition is terminating")
        }
        if dryRun { return obj }
        var claimed: [String] = []
        let allocator = serviceAllocator
        if Self.isService(r) { claimed = try await allocator.allocate(&obj, old: nil) }
        var attempts = 0
        while true {
            do {
                let key = r.storeKey(namespace: obj.metadataNamespace, name: obj.metadataName!)
                let kv = try await store.create(key, value: try encode(try await storageForm(obj, of: r), key: key))
                obj.resourceVersion = String(kv.modRevision)
                return obj
            } catch let e as OrcaError where e.code == .keyExists {
                if let generated, attempts < 8 {
                    attempts += 1
                    obj.metadataName = generated + Registry.randomSuffix()
                    continue
                }
                await allocator.release(claimed, of: obj)
                throw APIError.alreadyExists(r, obj.metadataName!)
            } catch {
                await allocator.release(claimed, of: obj)
                throw error
            }
        }
    }

    /// Resources whose `metadata.generation` counts spec changes (workloads and the like);
    /// ConfigMaps, Secrets, Pods and most others have none, as in Kubernetes.
    static let generationTracked: Set<String> = [
        "deployments.apps", "replicasets.apps", "statefulsets.apps", "daemonsets.apps", "jobs.batch", "cronjobs.batch",
        "poddisruptionbudgets.policy", "replicationcontrollers", "services",
        "customresourcedefinitions.apiextensions.k8s.io",
    ]

    /// Whether `r`'s objects count their spec changes in `metadata.generation`: the workloads
    /// and every custom resource.
    func tracksGeneration(_ r: ResourceType) -> Bool {
        Self.generationTracked.contains(r.groupResource) || served.customResource(r) != nil
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }

    /// Checks apiVersion/kind of a body against the endpoint and fills them if missing.
    func checkTypeMeta(_ r: ResourceType, _ input: JSONValue) throws -> JSONValue {
        var obj = input
        if let v = obj.apiVersion, !v.isEmpty, v != r.apiVersion {
            throw APIError.badRequest("the API version in the data (\(v)) does not match the expected API version (\(r.apiVersion))")
        }
        if let k = obj.kind, !k.isEmpty, k != r.kind {
            throw APIError.badRequest("the kind in the data (\(k)) does not match the expected kind (\(r.kind))")
        }
        obj["apiVersion"] = .string(r.apiVersion)
        obj["kind"] = .string(r.kind)
        return obj
    }

    func requireActiveNamespace(_ ns: String, creating r: ResourceType) async throws {
        guard let nsRes = catalog.resource(group: "", version: "v1", resource: "namespaces") else { return }
        guard let (nsObj, _) = try await read(nsRes, namespace: nil, name: ns) else {
            throw APIError.notFound(nsRes, ns)
        }
        if nsObj.deletionTimestamp != nil, r.resource != "events" {
            throw APIError.forbidden("\(r.resource) is forbidden: unable to create new content in namespace \(ns) because it is being terminated")
        }
    }
}
