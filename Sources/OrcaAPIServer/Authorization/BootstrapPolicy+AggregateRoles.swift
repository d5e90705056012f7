import OrcaAPI

extension BootstrapPolicy {
    /// `system:aggregate-to-admin|edit|view`: the rules aggregated into `admin`, `edit` and
    /// `view` (each carries the label its aggregate selects).
    static var aggregateToRoles: [ClusterRole] {
        [
            clusterRole("system:aggregate-to-admin", labels: ["rbac.authorization.k8s.io/aggregate-to-admin": "true"], [
                // Additional admin powers.
                rule(["create"], groups: ["authorization.k8s.io"], resources: ["localsubjectaccessreviews"]),
                rule(readWrite, groups: [rbacGroup], resources: ["roles", "rolebindings"]),
            ]),
            // Every user-level action in a namespace, but not the "privileged" resources of
            // the system: `/status` subresources, quota and limits.
            clusterRole("system:aggregate-to-edit", labels: ["rbac.authorization.k8s.io/aggregate-to-edit": "true"], [
                // Read on escalating resources.
                rule(read, groups: [""], resources: ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"]),
                rule(["impersonate"], groups: [""], resources: ["serviceaccounts"]),
                rule(write, groups: [""], resources: ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
                rule(["create"], groups: [""], resources: ["pods/eviction"]),
                rule(write, groups: [""], resources: ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                                                     "services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"]),
                rule(["create"], groups: [""], resources: ["serviceaccounts/token"]),
                rule(write, groups: ["apps"], resources: ["statefulsets", "statefulsets/scale", "daemonsets",
                                                         "deployments", "deployments/scale", "deployments/rollback",
                                                         "replicasets", "replicasets/scale"]),
                rule(write, groups: ["autoscaling"], resources: ["horizontalpodautoscalers"]),
                rule(write, groups: ["batch"], resources: ["jobs", "cronjobs"]),
                rule(write, groups: ["extensions"], resources: ["daemonsets", "deployments", "deployments/scale", "deployments/rollback",
                                                               "ingresses", "replicasets", "replicasets/scale", "replicationcontrollers/scale",
                                                               "networkpolicies"]),
                rule(write, groups: ["policy"], resources: ["poddisruptionbudgets"]),
                rule(write, groups: ["networking.k8s.io"], resources: ["networkpolicies", "ingresses"]),
                rule(readWrite, groups: ["coordination.k8s.io"], resources: ["leases"]),
            ]),
            // Read-only access to the non-escalating resources of a namespace.
            clusterRole("system:aggregate-to-view", labels: ["rbac.authorization.k8s.io/aggregate-to-view": "true"], [
                rule(read, groups: [""], resources: ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                                                    "services", "services/status", "endpoints", "persistentvolumeclaims",
                                                    "persistentvolumeclaims/status", "configmaps"]),
                rule(read, groups: [""], resources: ["limitranges", "resourcequotas", "bindings", "events", "pods/status",
                                                    "resourcequotas/status", "namespaces/status", "replicationcontrollers/status", "pods/log"]),
                // Reading namespaces at namespace scope reads *this* namespace: a hint of
                // which namespaces one has access to.
                rule(read, groups: [""], resources: ["namespaces"]),
                rule(read, groups: ["discovery.k8s.io"], resources: ["endpointslices"]),
                rule(read, groups: ["apps"], resources: ["controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
                                                        "daemonsets", "daemonsets/status", "deployments", "deployments/status",
                                                        "deployments/scale", "replicasets", "replicasets/status", "replicasets/scale"]),
                rule(read, groups: ["autoscaling"], resources: ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
                rule(read, groups: ["batch"], resources: ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
                rule(read, groups: ["extensions"], resources: ["daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                                                              "deployments/status", "ingresses", "ingresses/status", "replicasets",
                                                              "replicasets/scale", "replicasets/status", "replicationcontrollers/scale",
                                                              "networkpolicies"]),
                rule(read, groups: ["policy"], resources: ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
                rule(read, groups: ["networking.k8s.io"], resources: ["ingresses", "ingresses/status", "networkpolicies"]),
            ]),
        ]
    }
}
