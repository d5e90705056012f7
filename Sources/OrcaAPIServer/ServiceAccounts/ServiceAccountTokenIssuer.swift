import Foundation
import OrcaAPI
import OrcaCore

/// Issues bound ServiceAccount tokens for `serviceaccounts/<name>/token` (TokenRequest), with
/// kube-apiserver's defaults, limits and errors (`pkg/registry/core/serviceaccount/storage/token.go`).
///
/// Not done, as kube does only for tokens the kubelet asks for: stretching 3607-second pod
/// tokens to a year (`--service-account-extend-token-expiration`), so no `warnafter`.
public struct ServiceAccountTokenIssuer: Sendable {
    /// kube-apiserver's usual `--service-account-issuer` (kubeadm, kind).
    public static let defaultIssuer = "https://kubernetes.default.svc.cluster.local"
    /// `spec.expirationSeconds` when unset (v1 defaulting).
    public static let defaultExpirationSeconds: Int64 = 3600
    /// The shortest lifetime a request may ask for (`MinTokenAgeSec`).
    public static let minimumExpirationSeconds: Int64 = 600
    /// The longest lifetime validation allows (2^32 seconds).
    public static let maximumExpirationSeconds: Int64 = 1 << 32

    /// Signs the tokens.
    public var key: ServiceAccountSigningKey
    /// The `iss` claim (`--service-account-issuer`).
    public var issuer: String
    /// The API server's own audiences (`--api-audiences`): a request's default `audiences`.
    public var audiences: [String]
    /// `--service-account-max-token-expiration`: longer requests are shortened to it; nil: no cap.
    public var maxExpirationSeconds: Int64?
    /// The `jti` of each token.
    public var newID: @Sendable () -> String

    /// `audiences` default to `[issuer]`, as kube-apiserver's `--api-audiences` does.
    public init(key: ServiceAccountSigningKey, issuer: String = ServiceAccountTokenIssuer.defaultIssuer,
                audiences: [String]? = nil, maxExpirationSeconds: Int64? = nil,
                newID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() }) {
        self.key = key
        self.issuer = issuer
        self.audiences = audiences ?? [issuer]
        self.maxExpirationSeconds = maxExpirationSeconds
        self.newID = newID
    }

    /// Issues a token for `serviceAccount` (as stored: name, namespace and uid set).
    ///
    /// `boundObject` is the object `request.spec.boundObjectRef` names, as stored (nil when
    /// there is no reference; a reference without object is 404). For a pod on a node, `node`
    /// is that Node, for its uid in the `node` claim (without it the claim has only the name).
    /// Returns the request with defaults, metadata and `status {token, expirationTimestamp}`.
    ///
    /// Throws `APIError`: 422 (`metadata.name`/`metadata.namespace` differing from the
    /// ServiceAccount's, `spec.expirationSeconds` under 600 or over 2^32), 409 (`metadata.uid`
    /// or `boundObjectRef.uid` differing from the object's), 400 (a bound kind other than
    /// Pod, Secret or Node; a pod running as another ServiceAccount).
    public func issue(serviceAccount: ServiceAccount, request: AuthenticationV1TokenRequest, boundObject: JSONValue?,
                      node: JSONValue? = nil, now: Date) throws -> AuthenticationV1TokenRequest {
        let name = serviceAccount.metadata?.name ?? ""
        let namespace = serviceAccount.metadata?.namespace ?? ""
        var request = try prepared(request, serviceAccount: serviceAccount, now: now)
        var spec = request.spec ?? TokenRequestSpec()

        var pod: ServiceAccountToken.ObjectRef?
        var secret: ServiceAccountToken.ObjectRef?
        var nodeRef: ServiceAccountToken.ObjectRef?
        if let ref = spec.boundObjectRef {
            let kind = try Self.boundKind(ref)
            guard let object = boundObject else { throw APIError.notFound(kind.resource, ref.name ?? "") }
            let uid = object.metadataUID ?? ""
            let objectName = object.metadataName ?? ref.name ?? ""
            switch kind {
            case .pod:
                if name != object[path: ["spec", "serviceAccountName"]]?.stringValue ?? "" {
                    throw APIError.badRequest("cannot bind token for serviceaccount \"\(name)\" to pod running with different serviceaccount name.")
                }
                pod = .init(name: objectName, uid: uid)
                if let nodeName = object[path: ["spec", "nodeName"]]?.stringValue, !nodeName.isEmpty {
                    let nodeUID = node?.metadataName == nodeName ? node?.metadataUID ?? "" : ""
                    nodeRef = .init(name: nodeName, uid: nodeUID)
                }
            case .secret:
                secret = .init(name: objectName, uid: uid)
            case .node:
                nodeRef = .init(name: objectName, uid: uid)
            }
            if let want = ref.uid, !want.isEmpty, want != uid {
                throw APIError.conflict(kind.conflictResource, ref.name ?? "",
                                        "the UID in the bound object reference (\(want)) does not match the UID in record. The object might have been deleted and then recreated")
            }
        }

        var seconds = spec.expirationSeconds ?? Self.defaultExpirationSeconds
        if let max = maxExpirationSeconds, max > 0, seconds > max { seconds = max }
        spec.expirationSeconds = seconds
        request.spec = spec

        let issuedAt = Int64(now.timeIntervalSince1970.rounded(.down))
        let token = ServiceAccountToken(
            issuer: issuer, subject: ServiceAccountToken.username(namespace: namespace, name: name),
            audiences: spec.audiences ?? audiences, issuedAt: issuedAt, notBefore: issuedAt, expiry: issuedAt + seconds,
            id: newID(), namespace: namespace, serviceAccount: .init(name: name, uid: serviceAccount.metadata?.uid ?? ""),
            pod: pod, secret: secret, node: nodeRef)
        let expiration = Date(timeIntervalSince1970: TimeInterval(issuedAt + seconds))
        request.status = TokenRequestStatus(expirationTimestamp: KubernetesTime.string(expiration),
                                            token: try token.signed(with: key))
        return request
    }

    /// The request with metadata and defaults filled in and checked, status cleared — the
    /// steps before the bound object is looked at.
    func prepared(_ input: AuthenticationV1TokenRequest, serviceAccount: ServiceAccount, now: Date) throws -> AuthenticationV1TokenRequest {
        let name = serviceAccount.metadata?.name ?? ""
        let namespace = serviceAccount.metadata?.namespace ?? ""
        try Self.checkMetadata(input, namespace: namespace, name: name)
        var request = input
        var meta = request.metadata ?? ObjectMeta()
        let uid = serviceAccount.metadata?.uid ?? ""
        if let requested = meta.uid, !requested.isEmpty, requested != uid {
            throw APIError.conflict(Self.tokenRequestResource, name,
                                    "the UID in the token request (\(requested)) does not match the UID of the service account (\(uid))")
        }
        var spec = request.spec ?? TokenRequestSpec()
        if (spec.audiences ?? []).isEmpty { spec.audiences = audiences }
        if spec.expirationSeconds == nil { spec.expirationSeconds = Self.defaultExpirationSeconds }
        if (meta.name ?? "").isEmpty { meta.name = name }
        if (meta.namespace ?? "").isEmpty { meta.namespace = namespace }
        if (meta.uid ?? "").isEmpty { meta.uid = uid }
        meta.creationTimestamp = KubernetesTime.string(now)
        request.apiVersion = AuthenticationV1TokenRequest.apiVersion
        request.kind = AuthenticationV1TokenRequest.kind
        request.metadata = meta
        request.spec = spec
        request.status = nil

        let seconds = spec.expirationSeconds ?? 0
        var causes: [StatusCause] = []
        if seconds < Self.minimumExpirationSeconds {
            causes.append(.invalid("spec.expirationSeconds", number: seconds, "may not specify a duration less than 10 minutes"))
        }
        if seconds > Self.maximumExpirationSeconds {
            causes.append(.invalid("spec.expirationSeconds", number: seconds, "may not specify a duration larger than 2^32 seconds"))
        }
        if !causes.isEmpty { throw Self.invalid("", causes) }
        return request
    }

    /// 422 when the body's name or namespace is set and differs from the URL's.
    static func checkMetadata(_ request: AuthenticationV1TokenRequest, namespace: String, name: String) throws {
        if let n = request.metadata?.name, !n.isEmpty, n != name {
            throw invalid(name, [.invalid("metadata.name", n, "must match the service account name if specified")])
        }
        if let ns = request.metadata?.namespace, !ns.isEmpty, ns != namespace {
            throw invalid(name, [.invalid("metadata.namespace", ns, "must match the service account namespace if specified")])
        }
    }

    // MARK: bound objects

    /// The kinds a token can be bound to.
    enum BoundKind {
        case pod, secret, node

        /// The resource read for it (and named in its 404).
        var resource: ResourceType {
            switch self {
            case .pod: ResourceType("", "v1", "Pod", "pods")
            case .secret: ResourceType("", "v1", "Secret", "secrets")
            case .node: ResourceType("", "v1", "Node", "nodes", namespaced: false)
            }
        }

        /// What a uid conflict names: kube uses the kind as the resource (`Pod "web"`).
        var conflictResource: ResourceType {
            let r = resource
            return ResourceType("", "v1", r.kind, r.kind, namespaced: r.namespaced)
        }
    }

    /// The kind of `ref`: core-group Pod, Secret or Node (any version, as kube), else 400.
    static func boundKind(_ ref: BoundObjectReference) throws -> BoundKind {
        let kind = ref.kind ?? ""
        let apiVersion = ref.apiVersion ?? ""
        // schema.ParseGroupVersion: "" and "v1" are core; "g/v" has group g; more slashes fail,
        // and FromAPIVersionAndKind then keeps only the kind.
        let parts = apiVersion.split(separator: "/", omittingEmptySubsequences: false)
        let (group, version): (String, String) = switch parts.count {
        case 0: ("", "")
        case 1: ("", String(parts[0]))
        case 2: (String(parts[0]), String(parts[1]))
        default: ("", "")
        }
        if group.isEmpty {
            switch kind {
            case "Pod": return .pod
            case "Secret": return .secret
            case "Node": return .node
            default: break
            }
        }
        throw APIError.badRequest("cannot bind token to object of type \(group)/\(version), Kind=\(kind)")
    }

    // MARK: errors

    /// `TokenRequest.authentication.k8s.io` as errors name it.
    static let tokenRequestResource = ResourceType("authentication.k8s.io", "v1", "TokenRequest", "TokenRequest")

    /// kube's `NewInvalid(TokenRequest.authentication.k8s.io, name, errs)`.
    static func invalid(_ name: String, _ causes: [StatusCause]) -> APIError {
        var e = APIError.invalid(tokenRequestResource, name, causes)
        e.message = "TokenRequest.authentication.k8s.io" + e.message.dropFirst("TokenRequest".count)
        if name.isEmpty { e.details?["name"] = nil }
        return e
    }
}
