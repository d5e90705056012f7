import OrcaAPI

/// The pod metadata annotations and spec the Pod Security checks read: a pod's own, or the
/// pod template of a pod controller (pod-security-admission's `PodSpecExtractor`).
struct PodSpecView: Sendable {
    var annotations: [String: String]
    var spec: JSONValue

    init(metadata: JSONValue?, spec: JSONValue?) {
        var annotations: [String: String] = [:]
        for (k, v) in metadata?["annotations"]?.objectValue ?? [:] { annotations[k] = v.stringValue ?? "" }
        self.annotations = annotations
        self.spec = spec ?? [:]
    }

    /// The pod's or template's spec of an object of resource `groupResource` (`pods`,
    /// `deployments.apps` …); nil when the resource holds none or the object has none.
    static func extract(from object: JSONValue, groupResource: String) -> PodSpecView? {
        let template: JSONValue?
        switch groupResource {
        case "pods":
            return PodSpecView(metadata: object["metadata"], spec: object["spec"])
        case "podtemplates":
            template = object["template"]
        case "replicationcontrollers":
            // The one optional template.
            guard let t = set(object[path: ["spec", "template"]]) else { return nil }
            template = t
        case "replicasets.apps", "deployments.apps", "statefulsets.apps", "daemonsets.apps", "jobs.batch":
            template = object[path: ["spec", "template"]]
        case "cronjobs.batch":
            template = object[path: ["spec", "jobTemplate", "spec", "template"]]
        default:
            return nil
        }
        return PodSpecView(metadata: template?["metadata"], spec: template?["spec"])
    }

    /// `visitContainers`: init containers, then containers, then ephemeral containers.
    var containers: [JSONValue] {
        ["initContainers", "containers", "ephemeralContainers"].flatMap { spec[$0]?.arrayValue ?? [] }
    }

    var podSecurityContext: JSONValue? { Self.set(spec["securityContext"]) }

    /// `spec.os.name` is `windows` (restricted checks from v1.25 leave such pods alone).
    var isWindows: Bool { spec[path: ["os", "name"]]?.stringValue == "windows" }

    static func name(_ container: JSONValue) -> String { container["name"]?.stringValue ?? "" }

    static func securityContext(_ container: JSONValue) -> JSONValue? { set(container["securityContext"]) }

    /// A member that is present and not null (Go's non-nil pointer).
    static func set(_ v: JSONValue?) -> JSONValue? {
        guard let v, !v.isNull else { return nil }
        return v
    }

    /// `isSignificantPodUpdate`: whether a pod update changes what Pod Security checks may
    /// judge; only images, the seccomp annotations and ephemeral containers can change on a
    /// stored pod, so an update changing none of them is not evaluated.
    static func isSignificantPodUpdate(_ pod: JSONValue, old: JSONValue) -> Bool {
        let new = PodSpecView(metadata: pod["metadata"], spec: pod["spec"])
        let before = PodSpecView(metadata: old["metadata"], spec: old["spec"])
        let seccompPodKey = "seccomp.security.alpha.kubernetes.io/pod"
        if new.annotations[seccompPodKey] != before.annotations[seccompPodKey] { return true }
        for list in ["containers", "initContainers"] {
            let now = new.spec[list]?.arrayValue ?? [], then = before.spec[list]?.arrayValue ?? []
            if now.count != then.count { return true }
            for (c, o) in zip(now, then) where isSignificantContainerUpdate(c, o, new.annotations, before.annotations) { return true }
        }
        let oldEphemeral = before.spec["ephemeralContainers"]?.arrayValue ?? []
        for c in new.spec["ephemeralContainers"]?.arrayValue ?? [] {
            guard let o = oldEphemeral.first(where: { name($0) == name(c) }) else { return true }
            if isSignificantContainerUpdate(c, o, new.annotations, before.annotations) { return true }
        }
        return false
    }

    static func isSignificantContainerUpdate(_ c: JSONValue, _ old: JSONValue, _ annotations: [String: String], _ oldAnnotations: [String: String]) -> Bool {
        if (c["image"]?.stringValue ?? "") != (old["image"]?.stringValue ?? "") { return true }
        let key = "container.seccomp.security.alpha.kubernetes.io/" + name(c)
        return annotations[key] != oldAnnotations[key]
    }
}
