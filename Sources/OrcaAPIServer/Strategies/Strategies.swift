import Foundation
import OrcaAPI

/// The strategies of the built-in resources, by `groupResource`.
public enum Strategies {
    public static var standard: [String: any ResourceStrategy] {
        [
            // core/v1
            "namespaces": NamespaceStrategy(), "pods": PodStrategy(), "services": ServiceStrategy(),
            "configmaps": ConfigMapStrategy(), "secrets": SecretStrategy(), "nodes": NodeStrategy(),
            "replicationcontrollers": ReplicationControllerStrategy(), "podtemplates": PodTemplateStrategy(),
            "events": EventStrategy(), "endpoints": EndpointsStrategy(),
            "persistentvolumeclaims": PersistentVolumeClaimStrategy(), "persistentvolumes": PersistentVolumeStrategy(),
            // apps/v1, batch/v1
            "deployments.apps": DeploymentStrategy(), "replicasets.apps": ReplicaSetStrategy(),
            "statefulsets.apps": StatefulSetStrategy(), "daemonsets.apps": DaemonSetStrategy(),
            "jobs.batch": JobStrategy(), "cronjobs.batch": CronJobStrategy(),
            // the rest
            "endpointslices.discovery.k8s.io": EndpointSliceStrategy(),
            "leases.coordination.k8s.io": LeaseStrategy(),
            "poddisruptionbudgets.policy": PodDisruptionBudgetStrategy(),
            "roles.rbac.authorization.k8s.io": RoleStrategy(namespaced: true),
            "clusterroles.rbac.authorization.k8s.io": RoleStrategy(namespaced: false),
            "rolebindings.rbac.authorization.k8s.io": RoleBindingStrategy(namespaced: true),
            "clusterrolebindings.rbac.authorization.k8s.io": RoleBindingStrategy(namespaced: false),
            "storageclasses.storage.k8s.io": StorageClassStrategy(),
            "priorityclasses.scheduling.k8s.io": PriorityClassStrategy(),
            "certificatesigningrequests.certificates.k8s.io": CertificateSigningRequestStrategy(),
            "customresourcedefinitions.apiextensions.k8s.io": CustomResourceDefinitionStrategy(),
            "mutatingwebhookconfigurations.admissionregistration.k8s.io": WebhookConfigurationStrategy(mutating: true),
            "validatingwebhookconfigurations.admissionregistration.k8s.io": WebhookConfigurationStrategy(mutating: false),
        ].merging(StoredKindStrategy.all) { builtIn, _ in builtIn }
    }
}
