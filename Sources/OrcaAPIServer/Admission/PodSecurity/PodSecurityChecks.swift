import OrcaAPI

/// Why a check forbids a pod (pod-security-admission's `CheckResult` when not allowed): a
/// short reason (`host namespaces`) and a detail naming the fields (`hostNetwork=true`).
struct PodSecurityViolation: Sendable, Hashable {
    var reason: String
    var detail: String
}

/// One Pod Security Standards check (`policy.Check`): its ID, the level it belongs to, and its
/// revisions by the first policy version each applies to.
struct PodSecurityCheck: Sendable {
    typealias Evaluate = @Sendable (PodSpecView) -> PodSecurityViolation?

    struct Revision: Sendable {
        /// The first policy version this revision applies to.
        var minimum: PodSecurityVersion
        /// Baseline checks this restricted revision replaces.
        var overrides: [String] = []
        var evaluate: Evaluate
    }

    var id: String
    var level: PodSecurityLevel
    var revisions: [Revision]

    /// The revision in force at `version` (nil before the first one).
    func revision(at version: PodSecurityVersion) -> Revision? {
        revisions.last { !(version < $0.minimum) }
    }
}

/// The Pod Security Standards checks (pod-security-admission's `policy` package, as of
/// Kubernetes 1.32), in `+Baseline` and `+Restricted`, and their message helpers.
enum PodSecurityChecks {
    /// `pluralize`.
    static func pluralize(_ singular: String, _ plural: String, _ count: Int) -> String { count == 1 ? singular : plural }

    /// `joinQuote`: `"a", "b"` (no escaping, as Go's).
    static func joinQuote(_ items: [String]) -> String {
        items.isEmpty ? "" : "\"" + items.joined(separator: "\", \"") + "\""
    }

    /// `container "a"` or `containers "a", "b"`.
    static func containers(_ names: [String]) -> String {
        "\(pluralize("container", "containers", names.count)) \(joinQuote(names))"
    }

    /// The names of the containers (in visiting order) `bad` picks.
    static func containerNames(_ pod: PodSpecView, where bad: (JSONValue) -> Bool) -> [String] {
        pod.containers.filter(bad).map(PodSpecView.name)
    }

    /// A container's `securityContext.<path>`, when set.
    static func containerField(_ c: JSONValue, _ path: String...) -> JSONValue? {
        PodSpecView.set(PodSpecView.securityContext(c)?[path: path])
    }

    /// The pod's `securityContext.<path>`, when set.
    static func podField(_ pod: PodSpecView, _ path: String...) -> JSONValue? {
        PodSpecView.set(pod.podSecurityContext?[path: path])
    }
}
