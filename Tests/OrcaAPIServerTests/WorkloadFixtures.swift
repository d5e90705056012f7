import Foundation
import OrcaAPI

/// Minimal valid workload objects, as a user would write them.
enum WorkloadFixtures {
    static let container: JSONValue = ["name": "c", "image": "busybox:1.35"]

    static func template(labels: JSONValue = ["app": "web"], restartPolicy: String? = nil) -> JSONValue {
        var spec: JSONValue = ["containers": [container]]
        if let restartPolicy { spec["restartPolicy"] = .string(restartPolicy) }
        return ["metadata": ["labels": labels], "spec": spec]
    }

    static func deployment(name: String = "web") -> JSONValue {
        ["metadata": ["name": .string(name)],
         "spec": ["selector": ["matchLabels": ["app": "web"]], "template": template()]]
    }

    static func replicaSet() -> JSONValue {
        ["metadata": ["name": "web"], "spec": ["selector": ["matchLabels": ["app": "web"]], "template": template()]]
    }

    static func statefulSet() -> JSONValue {
        ["metadata": ["name": "db"],
         "spec": ["selector": ["matchLabels": ["app": "web"]], "serviceName": "db", "template": template(),
                  "volumeClaimTemplates": [["metadata": ["name": "data"],
                                            "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]]]]]
    }

    static func daemonSet() -> JSONValue {
        ["metadata": ["name": "agent"], "spec": ["selector": ["matchLabels": ["app": "web"]], "template": template()]]
    }

    static func job() -> JSONValue {
        ["metadata": ["name": "pi"], "spec": ["template": template(labels: ["app": "pi"], restartPolicy: "Never")]]
    }

    static func cronJob() -> JSONValue {
        ["metadata": ["name": "tick"],
         "spec": ["schedule": "*/5 * * * *",
                  "jobTemplate": ["spec": ["template": template(labels: ["app": "tick"], restartPolicy: "OnFailure")]]]]
    }

    static func replicationController() -> JSONValue {
        ["metadata": ["name": "rc"], "spec": ["template": template()]]
    }

    static func podTemplate() -> JSONValue {
        ["metadata": ["name": "pt"], "template": template()]
    }

    static func pod(name: String = "p", nodeName: String? = nil) -> JSONValue {
        var o: JSONValue = ["metadata": ["name": .string(name)], "spec": ["containers": [container]]]
        if let nodeName { o[path: ["spec", "nodeName"]] = .string(nodeName) }
        return o
    }
}
