import Foundation
import OrcaAPI
import Testing

@Suite("Workload and Service decoding")
struct WorkloadDecodingTests {
    @Test func decodesDeployment() throws {
        let json = #"""
        {
          "apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"name": "web", "namespace": "default", "generation": 3,
                       "annotations": {"deployment.kubernetes.io/revision": "2"}},
          "spec": {
            "replicas": 3, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": "web"},
                         "matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}]},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "template": {
              "metadata": {"labels": {"app": "web", "tier": "frontend"}},
              "spec": {"containers": [{"name": "web", "image": "busybox:1.35",
                                       "args": ["httpd", "-f", "-p", "8080"],
                                       "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}]}
            }
          },
          "status": {"observedGeneration": 3, "replicas": 3, "readyReplicas": 2, "updatedReplicas": 3,
                     "availableReplicas": 2, "unavailableReplicas": 1,
                     "conditions": [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                                     "lastUpdateTime": "2025-01-02T03:04:05Z", "lastTransitionTime": "2025-01-02T03:04:05Z"}]}
        }
        """#
        let deployment = try JSONDecoder().decode(Deployment.self, from: Data(json.utf8))
        #expect(deployment.apiVersion == Deployment.apiVersion)
        #expect(deployment.metadata?.generation == 3)
        #expect(deployment.spec?.replicas == 3)
        #expect(deployment.spec?.selector?.matchExpressions?.first?.operator == "In")
        #expect(deployment.spec?.strategy?.rollingUpdate?.maxSurge == .string("25%"))
        #expect(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable == .int(1))
        let container = try #require(deployment.spec?.template?.spec?.containers?.first)
        #expect(container.args == ["httpd", "-f", "-p", "8080"])
        #expect(container.resources?.requests?["cpu"]?.milliValue == 250)
        #expect(deployment.status?.conditions?.first?.reason == "MinimumReplicasUnavailable")
        #expect(deployment.status?.unavailableReplicas == 1)
    }

    @Test func decodesService() throws {
        let json = #"""
        {
          "apiVersion": "v1", "kind": "Service",
          "metadata": {"name": "web", "namespace": "default"},
          "spec": {
            "type": "NodePort", "selector": {"app": "web"},
            "clusterIP": "10.43.0.20", "clusterIPs": ["10.43.0.20"],
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "sessionAffinity": "None", "internalTrafficPolicy": "Cluster", "externalTrafficPolicy": "Cluster",
            "ports": [
              {"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http", "nodePort": 30080},
              {"name": "metrics", "protocol": "TCP", "port": 9090, "targetPort": 9090, "appProtocol": "http"}
            ]
          },
          "status": {"loadBalancer": {}}
        }
        """#
        let service = try JSONDecoder().decode(Service.self, from: Data(json.utf8))
        #expect(service.spec?.type == "NodePort")
        #expect(service.spec?.clusterIPs == ["10.43.0.20"])
        let ports = try #require(service.spec?.ports)
        #expect(ports.map(\.port) == [80, 9090])
        #expect(ports[0].targetPort == "http" && ports[0].nodePort == 30080 && ports[0].protocol == "TCP")
        #expect(ports[1].targetPort == 9090 && ports[1].appProtocol == "http")
        #expect(service.status?.loadBalancer == LoadBalancerStatus())
    }

    @Test func decodesListsAndStatus() throws {
        let list = try JSONDecoder().decode(PodList.self, from: Data(#"""
            {"apiVersion":"v1","kind":"PodList","metadata":{"resourceVersion":"42","continue":"abc"},
             "items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}
            """#.utf8))
        #expect(list.metadata?.continue == "abc")
        #expect(list.items?.compactMap(\.metadata?.name) == ["a", "b"])

        let status = try JSONDecoder().decode(Status.self, from: Data(#"""
            {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
             "message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404}
            """#.utf8))
        #expect(status.code == 404 && status.reason == "NotFound" && status.details?.kind == "pods")
    }
}
