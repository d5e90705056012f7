import OrcaAPI

extension BootstrapPolicy {
    /// The default ClusterRoles (`ClusterRoles()`, default feature gates), in
    /// kube-apiserver's order; `admin`, `edit` and `view` still unaggregated.
    public static let clusterRoles: [ClusterRole] = userFacingRoles + aggregateToRoles + systemRoles + componentRoles

    /// `cluster-admin`, discovery, monitoring, basic-user, public-info and the aggregated
    /// `admin`/`edit`/`view`.
    static var userFacingRoles: [ClusterRole] {
        [
            // A "root" role which can do absolutely anything.
            clusterRole("cluster-admin", [
                rule(["*"], groups: ["*"], resources: ["*"]),
                rule(["*"], urls: ["*"]),
            ]),
            // Just enough to tell whether the server is ready and to discover API versions.
            clusterRole("system:discovery", [
                rule(["get"], urls: ["/livez", "/readyz", "/healthz", "/version", "/version/",
                                     "/openapi", "/openapi/*", "/api", "/api/*", "/apis", "/apis/*"]),
            ]),
            clusterRole("system:monitoring", [
                rule(["get"], urls: ["/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz",
                                     "/livez/*", "/readyz/*", "/healthz/*"]),
            ]),
            // Enough for a "normal" user to learn about themselves.
            clusterRole("system:basic-user", [
                rule(["create"], groups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
                rule(["create"], groups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"]),
            ]),
            clusterRole("system:public-info-viewer", [
                rule(["get"], urls: ["/livez", "/readyz", "/healthz", "/version", "/version/"]),
            ]),
            clusterRole("admin", aggregateFrom: "aggregate-to-admin"),
            clusterRole("edit", labels: ["rbac.authorization.k8s.io/aggregate-to-admin": "true"], aggregateFrom: "aggregate-to-edit"),
            clusterRole("view", labels: ["rbac.authorization.k8s.io/aggregate-to-edit": "true"], aggregateFrom: "aggregate-to-view"),
        ]
    }

    /// Roles of the node, proxy, controllers and add-ons.
    static var systemRoles: [ClusterRole] {
        [
            clusterRole("system:heapster", [
                rule(read, groups: [""], resources: ["events", "pods", "nodes", "namespaces"]),
                rule(read, groups: ["extensions"], resources: ["deployments"]),
            ]),
            clusterRole("system:node", nodeRules),
            clusterRole("system:node-problem-detector", [
                rule(["get"], groups: [""], resources: ["nodes"]),
                rule(["patch"], groups: [""], resources: ["nodes/status"]),
                eventsRule,
            ]),
            clusterRole("system:kubelet-api-admin", [
                // The kubelet API, reached through the nodes/* subresources.
                rule(read, groups: [""], resources: ["nodes"]),
                rule(["proxy"], groups: [""], resources: ["nodes"]),
                rule(["*"], groups: [""], resources: ["nodes/proxy", "nodes/metrics", "nodes/stats", "nodes/log"]),
            ]),
            clusterRole("system:node-bootstrapper", [
                rule(["create", "get", "list", "watch"], groups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"]),
            ]),
            clusterRole("system:auth-delegator", [
                rule(["create"], groups: ["authentication.k8s.io"], resources: ["tokenreviews"]),
                rule(["create"], groups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"]),
            ]),
            clusterRole("system:kube-aggregator", [
                rule(read, groups: [""], resources: ["services", "endpoints"]),
            ]),
            clusterRole("system:kube-controller-manager", [
                eventsRule,
                rule(["create"], groups: ["coordination.k8s.io"], resources: ["leases"]),
                rule(["get", "update"], groups: ["coordination.k8s.io"], resources: ["leases"], names: ["kube-controller-manager"]),
                rule(["create"], groups: [""], resources: ["secrets", "serviceaccounts"]),
                rule(["delete"], groups: [""], resources: ["secrets"]),
                rule(["get"], groups: [""], resources: ["namespaces", "secrets", "serviceaccounts", "configmaps"]),
                rule(["update"], groups: [""], resources: ["secrets", "serviceaccounts"]),
                rule(["create"], groups: ["authentication.k8s.io"], resources: ["tokenreviews"]),
                rule(["create"], groups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"]),
                rule(["list", "watch"], groups: ["*"], resources: ["*"]),
                rule(["create"], groups: [""], resources: ["serviceaccounts/token"]),
            ]),
            clusterRole("system:kube-dns", [
                rule(["list", "watch"], groups: [""], resources: ["endpoints", "services"]),
            ]),
            clusterRole("system:persistent-volume-provisioner", [
                rule(["get", "list", "watch", "create", "delete"], groups: [""], resources: ["persistentvolumes"]),
                rule(["get", "list", "watch", "update"], groups: [""], resources: ["persistentvolumeclaims"]),
                rule(read, groups: ["storage.k8s.io"], resources: ["storageclasses"]),
                rule(["watch"], groups: [""], resources: ["events"]),
                eventsRule,
            ]),
            clusterRole("system:certificates.k8s.io:certificatesigningrequests:nodeclient", [
                rule(["create"], groups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/nodeclient"]),
            ]),
            clusterRole("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", [
                rule(["create"], groups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/selfnodeclient"]),
            ]),
            clusterRole("system:volume-scheduler", [
                rule(readUpdate, groups: [""], resources: ["persistentvolumes"]),
                rule(read, groups: ["storage.k8s.io"], resources: ["storageclasses"]),
                rule(readUpdate, groups: [""], resources: ["persistentvolumeclaims"]),
            ]),
            signerApprover("legacy-unknown-approver", signer: "kubernetes.io/legacy-unknown"),
            signerApprover("kubelet-serving-approver", signer: "kubernetes.io/kubelet-serving"),
            signerApprover("kube-apiserver-client-approver", signer: "kubernetes.io/kube-apiserver-client"),
            signerApprover("kube-apiserver-client-kubelet-approver", signer: "kubernetes.io/kube-apiserver-client-kubelet"),
        ]
    }

    /// Service-account issuer discovery, kube-proxy and the scheduler (appended last in kube).
    static var componentRoles: [ClusterRole] {
        [
            clusterRole("system:service-account-issuer-discovery", [
                rule(["get"], urls: ["/.well-known/openid-configuration", "/openid/v1/jwks"]),
            ]),
            clusterRole("system:node-proxier", [
                rule(["list", "watch"], groups: [""], resources: ["services", "endpoints"]),
                rule(read, groups: [""], resources: ["nodes"]),
                eventsRule,
                rule(["list", "watch"], groups: ["discovery.k8s.io"], resources: ["endpointslices"]),
            ]),
            clusterRole("system:kube-scheduler", [
                eventsRule,
                // Leader election.
                rule(["create"], groups: ["coordination.k8s.io"], resources: ["leases"]),
                rule(["get", "update"], groups: ["coordination.k8s.io"], resources: ["leases"], names: ["kube-scheduler"]),
                // Fundamental resources.
                rule(read, groups: [""], resources: ["nodes"]),
                rule(["get", "list", "watch", "delete"], groups: [""], resources: ["pods"]),
                rule(["create"], groups: [""], resources: ["pods/binding", "bindings"]),
                rule(["patch", "update"], groups: [""], resources: ["pods/status"]),
                // Things that select pods.
                rule(read, groups: [""], resources: ["services", "replicationcontrollers"]),
                rule(read, groups: ["apps", "extensions"], resources: ["replicasets"]),
                rule(read, groups: ["apps"], resources: ["statefulsets"]),
                // Things that pods use or that apply to them.
                rule(read, groups: ["policy"], resources: ["poddisruptionbudgets"]),
                rule(read, groups: [""], resources: ["persistentvolumeclaims", "persistentvolumes"]),
                // API access checks (non-mutating creates).
                rule(["create"], groups: ["authentication.k8s.io"], resources: ["tokenreviews"]),
                rule(["create"], groups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"]),
                // Volume limits, namespaceSelector in pod affinity, CSI.
                rule(read, groups: ["storage.k8s.io"], resources: ["csinodes"]),
                rule(read, groups: [""], resources: ["namespaces"]),
                rule(read, groups: ["storage.k8s.io"], resources: ["csidrivers"]),
                rule(read, groups: ["storage.k8s.io"], resources: ["csistoragecapacities"]),
            ]),
        ]
    }

    /// `NodeRules()`: what a kubelet may do (the Node authorizer and NodeRestriction narrow it).
    static var nodeRules: [PolicyRule] {
        [
            rule(["create"], groups: ["authentication.k8s.io"], resources: ["tokenreviews"]),
            rule(["create"], groups: ["authorization.k8s.io"], resources: ["subjectaccessreviews", "localsubjectaccessreviews"]),
            rule(read, groups: [""], resources: ["services"]),
            rule(["create", "get", "list", "watch"], groups: [""], resources: ["nodes"]),
            rule(["update", "patch"], groups: [""], resources: ["nodes/status"]),
            rule(["update", "patch"], groups: [""], resources: ["nodes"]),
            rule(["create", "update", "patch"], groups: [""], resources: ["events"]),
            rule(read, groups: [""], resources: ["pods"]),
            rule(["create", "delete"], groups: [""], resources: ["pods"]),
            rule(["update", "patch"], groups: [""], resources: ["pods/status"]),
            rule(["create"], groups: [""], resources: ["pods/eviction"]),
            rule(read, groups: [""], resources: ["secrets", "configmaps"]),
            rule(["get"], groups: [""], resources: ["persistentvolumeclaims", "persistentvolumes"]),
            rule(["get"], groups: [""], resources: ["endpoints"]),
            rule(["create", "get", "list", "watch"], groups: ["certificates.k8s.io"], resources: ["certificatesigningrequests"]),
            rule(["get", "create", "update", "patch", "delete"], groups: ["coordination.k8s.io"], resources: ["leases"]),
            rule(["get"], groups: ["storage.k8s.io"], resources: ["volumeattachments"]),
            rule(["create"], groups: [""], resources: ["serviceaccounts/token"]),
            rule(["get", "update", "patch"], groups: [""], resources: ["persistentvolumeclaims/status"]),
            rule(["get", "watch", "list"], groups: ["storage.k8s.io"], resources: ["csidrivers"]),
            rule(["get", "create", "update", "patch", "delete"], groups: ["storage.k8s.io"], resources: ["csinodes"]),
            rule(["get", "list", "watch"], groups: ["node.k8s.io"], resources: ["runtimeclasses"]),
        ]
    }

    /// `system:certificates.k8s.io:<name>`: approve CSRs for one signer.
    static func signerApprover(_ name: String, signer: String) -> ClusterRole {
        clusterRole("system:certificates.k8s.io:\(name)", [
            rule(["approve"], groups: ["certificates.k8s.io"], resources: ["signers"], names: [signer]),
        ])
    }
}
