import Foundation
import OrcaAPI

/// Pods: Kubernetes' defaults, validation, spec immutability and QoS class.
struct PodStrategy: ResourceStrategy {
    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        PodDefaults.apply(&object)
        DefaultTolerationSeconds.admit(&object)
        var status: JSONValue = ["phase": "Pending", "qosClass": .string(PodDefaults.qosClass(object))]
        if let node = object[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty {
            status["conditions"] = [["type": "PodScheduled", "status": "True", "lastProbeTime": .null,
                                     "lastTransitionTime": .string(KubernetesTime.string(context.now))]]
        }
        object["status"] = status
    }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws {
        PodDefaults.apply(&object)
        // Kubernetes' plugin admits updates too: a replace that drops the defaults gets them back.
        DefaultTolerationSeconds.admit(&object)
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        var causes = PodValidation.validateSpec(object["spec"] ?? .null, path: "spec")
        if old == nil, !(object[path: ["spec", "ephemeralContainers"]]?.arrayValue ?? []).isEmpty {
            causes.append(.forbidden("spec.ephemeralContainers", "cannot be set on create"))
        }
        if var old {
            // Objects stored before a default was added compare as if they had it.
            PodDefaults.apply(&old)
            causes += PodValidation.validateUpdate(object, old: old)
        }
        return causes
    }

    func warnings(_ object: JSONValue) -> [String] { PodSpecSupport.unsupportedFields(object["spec"] ?? .null) }
}

/// Kubernetes' `SetDefaults_Pod` and friends, on JSON.
enum PodDefaults {
    static func apply(_ pod: inout JSONValue) {
        guard var spec = pod["spec"], spec.objectValue != nil else { return }
        PodDefaults.applySpec(&spec)
        pod["spec"] = spec
    }

    /// Defaults of a pod's spec: those of a template spec plus what Kubernetes' `SetDefaults_Pod`
    /// and admission (service account, priority) add to pods only; the default tolerations are
    /// `DefaultTolerationSeconds`'.
    static func applySpec(_ spec: inout JSONValue) {
        applyTemplateSpec(&spec)
        func setIfMissing(_ k: String, _ v: JSONValue) { if spec[k] == nil || spec[k]?.isNull == true { spec[k] = v } }
        setIfMissing("enableServiceLinks", true)
        setIfMissing("priority", 0)
        setIfMissing("preemptionPolicy", "PreemptLowerPriority")
        setIfMissing("serviceAccountName", "default")
        setIfMissing("serviceAccount", spec["serviceAccountName"] ?? "default")
        for list in ["initContainers", "containers"] {
            guard let containers = spec[list]?.arrayValue else { continue }
            spec[list] = .array(containers.map(defaultRequestsToLimits))
        }
        // A host-network pod's container ports are the node's ports (`defaultHostNetworkPorts`;
        // since Kubernetes 1.28 for pods only, not for the templates of workloads).
        if spec["hostNetwork"]?.boolValue == true {
            for list in ["initContainers", "containers"] {
                guard let containers = spec[list]?.arrayValue else { continue }
                spec[list] = .array(containers.map { c in
                    guard let ports = c["ports"]?.arrayValue else { return c }
                    var c = c
                    c["ports"] = .array(ports.map { p in
                        var p = p
                        if (p["hostPort"]?.intValue ?? 0) == 0, let port = p["containerPort"] { p["hostPort"] = port }
                        return p
                    })
                    return c
                })
            }
        }
    }

    /// Kubernetes' `SetDefaults_PodSpec` and the defaults of its parts: what a pod template in a
    /// Deployment, Job or PodTemplate gets.
    static func applyTemplateSpec(_ spec: inout JSONValue) {
        guard spec.objectValue != nil else { return }
        func setIfMissing(_ k: String, _ v: JSONValue) { if spec[k] == nil || spec[k]?.isNull == true { spec[k] = v } }
        setIfMissing("restartPolicy", "Always")
        setIfMissing("dnsPolicy", "ClusterFirst")
        setIfMissing("terminationGracePeriodSeconds", 30)
        setIfMissing("securityContext", [:])
        setIfMissing("schedulerName", "default-scheduler")
        // The v1 conversion keeps the deprecated `serviceAccount` in step with `serviceAccountName`.
        if let name = spec["serviceAccountName"]?.stringValue, !name.isEmpty {
            setIfMissing("serviceAccount", .string(name))
        } else if let name = spec["serviceAccount"]?.stringValue, !name.isEmpty {
            spec["serviceAccountName"] = .string(name)
        }
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            guard let containers = spec[list]?.arrayValue else { continue }
            spec[list] = .array(containers.map(defaultContainer))
        }
        if let volumes = spec["volumes"]?.arrayValue {
            spec["volumes"] = .array(volumes.map(defaultVolume))
        }
    }

    static func defaultContainer(_ c: JSONValue) -> JSONValue {
        var c = c
        if c["imagePullPolicy"] == nil {
            let image = c["image"]?.stringValue ?? ""
            let tag = image.contains("@") ? "digest" : (image.split(separator: "/").last.flatMap { $0.split(separator: ":").dropFirst().first }.map(String.init) ?? "latest")
            c["imagePullPolicy"] = tag == "latest" ? "Always" : "IfNotPresent"
        }
        if c["terminationMessagePath"] == nil { c["terminationMessagePath"] = "/dev/termination-log" }
        if c["terminationMessagePolicy"] == nil { c["terminationMessagePolicy"] = "File" }
        if c["resources"] == nil { c["resources"] = [:] }
        if let ports = c["ports"]?.arrayValue {
            c["ports"] = .array(ports.map { p in var p = p; if p["protocol"] == nil { p["protocol"] = "TCP" }; return p })
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] where c[probe]?.objectValue != nil {
            c[probe] = defaultProbe(c[probe]!)
        }
        for hook in ["postStart", "preStop"] where c[path: ["lifecycle", hook, "httpGet"]]?.objectValue != nil {
            c[path: ["lifecycle", hook, "httpGet"]] = defaultHTTPGet(c[path: ["lifecycle", hook, "httpGet"]]!)
        }
        if let env = c["env"]?.arrayValue {
            c["env"] = .array(env.map { e in
                var e = e
                if e[path: ["valueFrom", "fieldRef"]]?.objectValue != nil, e[path: ["valueFrom", "fieldRef", "apiVersion"]] == nil {
                    e[path: ["valueFrom", "fieldRef", "apiVersion"]] = "v1"
                }
                return e
            })
        }
        return c
    }

    /// Pods only: requests default to limits.
    static func defaultRequestsToLimits(_ c: JSONValue) -> JSONValue {
        var c = c
        if let limits = c[path: ["resources", "limits"]], c[path: ["resources", "requests"]] == nil {
            c[path: ["resources", "requests"]] = limits
        }
        return c
    }

    /// `SetDefaults_Probe` (and its HTTP handler's).
    static func defaultProbe(_ p: JSONValue) -> JSONValue {
        var p = p
        for (k, v): (String, JSONValue) in [("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)]
        where p[k] == nil || p[k]?.intValue == 0 {
            p[k] = v
        }
        if p["httpGet"]?.objectValue != nil { p["httpGet"] = defaultHTTPGet(p["httpGet"]!) }
        return p
    }

    static func defaultHTTPGet(_ h: JSONValue) -> JSONValue {
        var h = h
        if (h["path"]?.stringValue ?? "").isEmpty { h["path"] = "/" }
        if (h["scheme"]?.stringValue ?? "").isEmpty { h["scheme"] = "HTTP" }
        return h
    }

    static func defaultVolume(_ v: JSONValue) -> JSONValue {
        var v = v
        for key in ["configMap", "secret"] where v[key] != nil {
            if v[key]?["defaultMode"] == nil { v[path: [key, "defaultMode"]] = 420 }
        }
        if v["downwardAPI"] != nil, v[path: ["downwardAPI", "defaultMode"]] == nil { v[path: ["downwardAPI", "defaultMode"]] = 420 }
        if v["projected"] != nil, v[path: ["projected", "defaultMode"]] == nil { v[path: ["projected", "defaultMode"]] = 420 }
        if v["hostPath"] != nil, v[path: ["hostPath", "type"]] == nil { v[path: ["hostPath", "type"]] = "" }
        return v
    }

    /// Guaranteed, Burstable or BestEffort from the containers' requests and limits.
    static func qosClass(_ pod: JSONValue) -> String {
        let containers = (pod[path: ["spec", "containers"]]?.arrayValue ?? []) + (pod[path: ["spec", "initContainers"]]?.arrayValue ?? [])
        var anySet = false
        var guaranteed = true
        for c in containers {
            let req = c[path: ["resources", "requests"]]?.objectValue ?? [:]
            let lim = c[path: ["resources", "limits"]]?.objectValue ?? [:]
            if !req.isEmpty || !lim.isEmpty { anySet = true }
            for r in ["cpu", "memory"] {
                guard let l = lim[r] else { guaranteed = false; continue }
                if let q = req[r], q != l { guaranteed = false }
            }
        }
        if !anySet { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
