import OrcaCore

/// One REST resource the API server serves: what kubectl discovers and the registry stores.
public struct ResourceType: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    /// The plural, lower-case resource name used in URLs (`pods`).
    public var resource: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    /// Subresources served (`status`, `scale`, `binding`, `log`, …).
    public var subresources: [String]
    /// The verbs of the main resource.
    public var verbs: [String]

    /// What most resources allow.
    public static let standardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    public init(_ group: String, _ version: String, _ kind: String, _ resource: String,
                namespaced: Bool = true, shortNames: [String] = [], categories: [String] = [],
                subresources: [String] = [], verbs: [String] = ResourceType.standardVerbs) {
        self.verbs = verbs
        self.group = group
        self.version = version
        self.kind = kind
        self.resource = resource
        self.singular = kind.lowercased()
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
    }

    /// `v1` or `apps/v1`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `pods` or `deployments.apps`.
    public var groupResource: String { group.isEmpty ? resource : "\(resource).\(group)" }
}

/// Every resource Orca serves, by group-version.
public struct ResourceCatalog: Sendable {
    public let resources: [ResourceType]

    public init(resources: [ResourceType]) {
        self.resources = resources
    }

    public static let standard = ResourceCatalog(resources: [
        // core/v1
        ResourceType("", "v1", "Pod", "pods", shortNames: ["po"], categories: ["all"],
                    subresources: ["status", "binding", "log", "eviction", "ephemeralcontainers", "exec", "attach", "portforward", "proxy"]),
        ResourceType("", "v1", "Service", "services", shortNames: ["svc"], categories: ["all"], subresources: ["status", "proxy"]),
        ResourceType("", "v1", "Endpoints", "endpoints", shortNames: ["ep"]),
        ResourceType("", "v1", "ConfigMap", "configmaps", shortNames: ["cm"]),
        ResourceType("", "v1", "Secret", "secrets"),
        ResourceType("", "v1", "Namespace", "namespaces", namespaced: false, shortNames: ["ns"], subresources: ["status", "finalize"]),
        ResourceType("", "v1", "Node", "nodes", namespaced: false, shortNames: ["no"], subresources: ["status", "proxy"]),
        ResourceType("", "v1", "Event", "events", shortNames: ["ev"]),
        ResourceType("", "v1", "ServiceAccount", "serviceaccounts", shortNames: ["sa"], subresources: ["token"]),
        ResourceType("", "v1", "PersistentVolume", "persistentvolumes", namespaced: false, shortNames: ["pv"], subresources: ["status"]),
        ResourceType("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", shortNames: ["pvc"], subresources: ["status"]),
        ResourceType("", "v1", "ReplicationController", "replicationcontrollers", shortNames: ["rc"], categories: ["all"], subresources: ["status", "scale"]),
        ResourceType("", "v1", "LimitRange", "limitranges", shortNames: ["limits"]),
        ResourceType("", "v1", "ResourceQuota", "resourcequotas", shortNames: ["quota"], subresources: ["status"]),
        ResourceType("", "v1", "PodTemplate", "podtemplates"),
        // admissionregistration.k8s.io/v1
        ResourceType("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", namespaced: false, categories: ["api-extensions"]),
        ResourceType("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", namespaced: false, categories: ["api-extensions"]),
        // apiextensions.k8s.io/v1
        ResourceType("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", namespaced: false,
                     shortNames: ["crd", "crds"], categories: ["api-extensions"], subresources: ["status"]),
        // authentication.k8s.io/v1, authorization.k8s.io/v1: reviews, answered and never stored
        ResourceType("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", namespaced: false, verbs: ["create"]),
        ResourceType("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", namespaced: false, verbs: ["create"]),
        ResourceType("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", verbs: ["create"]),
        ResourceType("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", namespaced: false, verbs: ["create"]),
        ResourceType("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", namespaced: false, verbs: ["create"]),
        ResourceType("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", namespaced: false, verbs: ["create"]),
        // apps/v1
        ResourceType("apps", "v1", "Deployment", "deployments", shortNames: ["deploy"], categories: ["all"], subresources: ["status", "scale"]),
        ResourceType("apps", "v1", "ReplicaSet", "replicasets", shortNames: ["rs"], categories: ["all"], subresources: ["status", "scale"]),
        ResourceType("apps", "v1", "StatefulSet", "statefulsets", shortNames: ["sts"], categories: ["all"], subresources: ["status", "scale"]),
        ResourceType("apps", "v1", "DaemonSet", "daemonsets", shortNames: ["ds"], categories: ["all"], subresources: ["status"]),
        ResourceType("apps", "v1", "ControllerRevision", "controllerrevisions"),
        // batch/v1
        ResourceType("batch", "v1", "Job", "jobs", categories: ["all"], subresources: ["status"]),
        ResourceType("batch", "v1", "CronJob", "cronjobs", shortNames: ["cj"], categories: ["all"], subresources: ["status"]),
        // certificates.k8s.io/v1
        ResourceType("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", namespaced: false,
                     shortNames: ["csr"], subresources: ["status", "approval"]),
        // coordination.k8s.io/v1
        ResourceType("coordination.k8s.io", "v1", "Lease", "leases"),
        // discovery.k8s.io/v1
        ResourceType("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
        // events.k8s.io/v1
        ResourceType("events.k8s.io", "v1", "Event", "events", shortNames: ["ev"]),
        // policy/v1
        ResourceType("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", shortNames: ["pdb"], subresources: ["status"]),
        // rbac.authorization.k8s.io/v1
        ResourceType("rbac.authorization.k8s.io", "v1", "Role", "roles"),
        ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
        ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced: false),
        ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced: false),
        // scheduling.k8s.io/v1
        ResourceType("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", namespaced: false, shortNames: ["pc"]),
        // storage.k8s.io/v1
        ResourceType("storage.k8s.io", "v1", "StorageClass", "storageclasses", namespaced: false, shortNames: ["sc"]),
        ResourceType("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", namespaced: false, subresources: ["status"]),
        ResourceType("storage.k8s.io", "v1", "CSIDriver", "csidrivers", namespaced: false),
        ResourceType("storage.k8s.io", "v1", "CSINode", "csinodes", namespaced: false),
        ResourceType("storage.k8s.io", "v1", "CSIStorageCapacity", "csistoragecapacities"),
        // networking.k8s.io/v1 (stored and served; Orca does not enforce NetworkPolicies or route Ingresses)
        ResourceType("networking.k8s.io", "v1", "Ingress", "ingresses", shortNames: ["ing"], subresources: ["status"]),
        ResourceType("networking.k8s.io", "v1", "IngressClass", "ingressclasses", namespaced: false),
        ResourceType("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", shortNames: ["netpol"]),
        // node.k8s.io/v1
        ResourceType("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", namespaced: false),
        // flowcontrol.apiserver.k8s.io/v1
        ResourceType("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "flowschemas", namespaced: false, subresources: ["status"]),
        ResourceType("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", "prioritylevelconfigurations",
                     namespaced: false, subresources: ["status"]),
        // apiregistration.k8s.io/v1
        ResourceType("apiregistration.k8s.io", "v1", "APIService", "apiservices", namespaced: false, subresources: ["status"]),
    ])

    /// The groups in discovery order (the core group first, as "").
    public var groups: [String] {
        var seen: [String] = []
        for r in resources where !seen.contains(r.group) { seen.append(r.group) }
        return seen
    }

    /// Resources of one group-version.
    public func resources(group: String, version: String) -> [ResourceType] {
        resources.filter { $0.group == group && $0.version == version }
    }

    /// The resource for a URL segment.
    public func resource(group: String, version: String, resource: String) -> ResourceType? {
        resources.first { $0.group == group && $0.version == version && $0.resource == resource }
    }

    /// The resource for a kind.
    public func resource(apiVersion: String, kind: String) -> ResourceType? {
        resources.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }
}
