import Foundation
import OrcaAPI
import Testing

/// A Pod as `kubectl get pod -o json` prints it, plus fields no Kubernetes version has.
let podJSON = #"""
{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {
    "name": "web-7d4b9c8f6d-x2x9k",
    "generateName": "web-7d4b9c8f6d-",
    "namespace": "default",
    "uid": "8f2c6a3e-7f1d-4b2a-9c3e-2d1f0a9b8c7d",
    "resourceVersion": "12345",
    "creationTimestamp": "2025-01-02T03:04:05Z",
    "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"},
    "annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-02T03:00:00Z"},
    "ownerReferences": [{
      "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c8f6d",
      "uid": "1a2b3c4d-0000-1111-2222-333344445555", "controller": true, "blockOwnerDeletion": true
    }],
    "managedFields": [{
      "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
      "time": "2025-01-02T03:04:05Z", "fieldsType": "FieldsV1",
      "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}
    }],
    "someFutureMetadataField": {"x": 1}
  },
  "spec": {
    "containers": [{
      "name": "nginx",
      "image": "docker.io/library/nginx:1.27",
      "imagePullPolicy": "IfNotPresent",
      "command": ["nginx", "-g", "daemon off;"],
      "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
      "env": [
        {"name": "MODE", "value": "production"},
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
        {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}}
      ],
      "resources": {
        "limits": {"cpu": "500m", "memory": "128Mi"},
        "requests": {"cpu": "100m", "memory": "64Mi", "ephemeral-storage": "1Gi"}
      },
      "livenessProbe": {
        "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
        "initialDelaySeconds": 3, "periodSeconds": 10, "timeoutSeconds": 1,
        "successThreshold": 1, "failureThreshold": 3
      },
      "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5},
      "volumeMounts": [
        {"name": "cache", "mountPath": "/var/cache/nginx"},
        {"name": "config", "mountPath": "/etc/nginx/conf.d", "readOnly": true}
      ],
      "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsUser": 101},
      "terminationMessagePath": "/dev/termination-log",
      "terminationMessagePolicy": "File",
      "aFieldFromTheFuture": true
    }],
    "volumes": [
      {"name": "cache", "emptyDir": {}},
      {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
      {"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
      ]}}
    ],
    "restartPolicy": "Always",
    "terminationGracePeriodSeconds": 30,
    "dnsPolicy": "ClusterFirst",
    "serviceAccountName": "default",
    "nodeName": "node-1",
    "enableServiceLinks": true,
    "priority": 0,
    "tolerations": [
      {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    ],
    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
      "weight": 100,
      "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}
    }]}}
  },
  "status": {
    "phase": "Running",
    "conditions": [
      {"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2025-01-02T03:04:09Z"}
    ],
    "hostIP": "10.0.0.5",
    "hostIPs": [{"ip": "10.0.0.5"}],
    "podIP": "10.42.0.7",
    "podIPs": [{"ip": "10.42.0.7"}],
    "startTime": "2025-01-02T03:04:05Z",
    "qosClass": "Burstable",
    "containerStatuses": [{
      "name": "nginx", "ready": true, "restartCount": 0, "started": true,
      "image": "docker.io/library/nginx:1.27", "imageID": "docker.io/library/nginx@sha256:0123",
      "containerID": "containerd://abc123",
      "state": {"running": {"startedAt": "2025-01-02T03:04:07Z"}},
      "lastState": {}
    }]
  }
}
"""#

/// Removes the keys no Kubernetes type has, and the explicit nulls, from the fixture.
private func knownFields(_ value: JSONValue) -> JSONValue {
    switch value {
    case .object(let object):
        var result: [String: JSONValue] = [:]
        for (key, child) in object where !child.isNull && key != "someFutureMetadataField" && key != "aFieldFromTheFuture" {
            result[key] = knownFields(child)
        }
        return .object(result)
    case .array(let array):
        return .array(array.map(knownFields))
    default:
        return value
    }
}

private func encode<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

@Suite("Pod coding")
struct PodCodingTests {
    @Test func decodesRealisticPodIgnoringUnknownFields() throws {
        let pod = try JSONDecoder().decode(Pod.self, from: Data(podJSON.utf8))
        #expect(pod.metadata?.name == "web-7d4b9c8f6d-x2x9k")
        #expect(pod.metadata?.ownerReferences?.first?.controller == true)
        let container = try #require(pod.spec?.containers?.first)
        #expect(container.ports?.first?.containerPort == 80)
        #expect(container.ports?.first?.protocol == "TCP")
        #expect(container.resources?.requests?["cpu"]?.milliValue == 100)
        #expect(container.resources?.limits?["memory"]?.value == Int64(128 * 1024 * 1024))
        #expect(container.livenessProbe?.httpGet?.port == .string("http"))
        #expect(container.readinessProbe?.tcpSocket?.port == .int(80))
        #expect(pod.spec?.volumes?.first?.emptyDir == EmptyDirVolumeSource())
        #expect(pod.spec?.tolerations?.first?.operator == "Exists")
        #expect(pod.status?.containerStatuses?.first?.state?.running?.startedAt == "2025-01-02T03:04:07Z")
        let fields = try #require(pod.metadata?.managedFields?.first?.fieldsV1)
        #expect(fields[path: ["f:metadata", "f:labels", "f:app"]] == .object([:]))
    }

    @Test func roundTripKeepsEveryKnownFieldAndOmitsNils() throws {
        let pod = try JSONDecoder().decode(Pod.self, from: Data(podJSON.utf8))
        let encoded = try encode(pod)
        #expect(!encoded.contains("null"))
        #expect(encoded.contains(#""emptyDir":{}"#))
        #expect(encoded.contains(#""lastState":{}"#))
        #expect(!encoded.contains("someFutureMetadataField"))
        #expect(try JSONValue.parse(encoded) == knownFields(try JSONValue.parse(podJSON)))

        let again = try JSONDecoder().decode(Pod.self, from: Data(encoded.utf8))
        #expect(again == pod)
    }

    @Test func emptyPodEncodesOnlyTypeMeta() throws {
        #expect(try encode(Pod()) == #"{"apiVersion":"v1","kind":"Pod"}"#)
        #expect(try encode(PodSpec()) == "{}")
        let pod = Pod(metadata: ObjectMeta(name: "a", namespace: "default"))
        #expect(try encode(pod) == #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"default"}}"#)
    }

    @Test func kindsCarryTheirGroupVersionKind() {
        #expect(Pod.apiVersion == "v1" && Pod.kind == "Pod" && Pod.group == "" && Pod.version == "v1")
        #expect(Deployment.apiVersion == "apps/v1" && Deployment.group == "apps")
        #expect(EventsV1Event.apiVersion == "events.k8s.io/v1" && EventsV1Event.kind == "Event")
        #expect(Event.apiVersion == "v1")
        #expect(Scale.apiVersion == "autoscaling/v1")
        #expect(PodList.kind == "PodList")
        #expect(Status.kind == "Status")
        #expect(listItemKind(DeploymentList.self) == "Deployment")
    }

    private func listItemKind<L: KubernetesList>(_: L.Type) -> String { L.Item.kind }
}
