import OrcaAPI

/// A Pod Security Standards level, as a namespace's `pod-security.kubernetes.io/<mode>` label
/// names it; ordered by strictness.
public enum PodSecurityLevel: String, Sendable, Hashable, Comparable, CaseIterable {
    case privileged, baseline, restricted

    var strictness: Int {
        switch self {
        case .privileged: 0
        case .baseline: 1
        case .restricted: 2
        }
    }

    public static func < (a: PodSecurityLevel, b: PodSecurityLevel) -> Bool { a.strictness < b.strictness }

    /// `api.ParseLevel`: an unknown level is evaluated as `restricted`, with the error.
    static func parse(_ text: String) -> (PodSecurityLevel, String?) {
        if let level = PodSecurityLevel(rawValue: text) { return (level, nil) }
        return (.restricted, "must be one of \(allCases.map(\.rawValue).joined(separator: ", "))")
    }
}

/// A policy version: `latest` or `v1.<minor>` (`api.Version`); `latest` is newer than every
/// numbered version.
public struct PodSecurityVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var isLatest: Bool

    public static let latest = PodSecurityVersion(major: 0, minor: 0, isLatest: true)

    public static func v1(_ minor: Int) -> PodSecurityVersion { PodSecurityVersion(major: 1, minor: minor, isLatest: false) }

    public static func < (a: PodSecurityVersion, b: PodSecurityVersion) -> Bool {
        if a.isLatest { return false }
        if b.isLatest { return true }
        return (a.major, a.minor) < (b.major, b.minor)
    }

    public var description: String { isLatest ? "latest" : "v\(major).\(minor)" }

    /// `api.ParseVersion`: `latest` or `v1.<minor>` (no leading zero); anything else is
    /// evaluated as `latest`, with the error.
    static func parse(_ text: String) -> (PodSecurityVersion, String?) {
        if text == "latest" { return (.latest, nil) }
        let error = "must be \"latest\" or \"v1.x\""
        guard text.hasPrefix("v1.") else { return (.latest, error) }
        let digits = text.dropFirst(3)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              digits.count == 1 || digits.first != "0", let minor = Int(digits) else { return (.latest, error) }
        return (.v1(minor), nil)
    }
}

/// A level at a version, as messages print it: `restricted:latest`.
public struct PodSecurityLevelVersion: Sendable, Hashable, CustomStringConvertible {
    public var level: PodSecurityLevel
    public var version: PodSecurityVersion

    public init(_ level: PodSecurityLevel, _ version: PodSecurityVersion = .latest) {
        self.level = level
        self.version = version
    }

    public var description: String { "\(level.rawValue):\(version)" }
}

/// What a namespace asks of its pods in each mode (`api.Policy`): `enforce` refuses pods,
/// `audit` records violations, `warn` answers them as warnings.
public struct PodSecurityPolicy: Sendable, Hashable {
    public var enforce: PodSecurityLevelVersion
    public var audit: PodSecurityLevelVersion
    public var warn: PodSecurityLevelVersion

    public init(enforce: PodSecurityLevelVersion, audit: PodSecurityLevelVersion, warn: PodSecurityLevelVersion) {
        self.enforce = enforce
        self.audit = audit
        self.warn = warn
    }

    /// kube-apiserver's default configuration: `privileged:latest` in every mode.
    public static let privileged = PodSecurityPolicy(enforce: PodSecurityLevelVersion(.privileged),
                                                     audit: PodSecurityLevelVersion(.privileged),
                                                     warn: PodSecurityLevelVersion(.privileged))

    public static let labelPrefix = "pod-security.kubernetes.io/"
    public static let enforceLabel = labelPrefix + "enforce"
    public static let auditLabel = labelPrefix + "audit"
    public static let warnLabel = labelPrefix + "warn"

    /// Whether no mode checks anything.
    var isPrivileged: Bool { enforce.level == .privileged && audit.level == .privileged && warn.level == .privileged }

    /// `api.PolicyToEvaluate`: the policy a namespace's labels ask for, unlabelled modes
    /// falling back to `defaults` (an unlabelled warn to a stricter enforce label), and the
    /// causes of bad label values. A bad level is evaluated as `restricted` for enforce and
    /// fails open (`privileged`) for audit and warn; a bad version as `latest`.
    static func forLabels(_ labels: [String: String], defaults: PodSecurityPolicy = .privileged) -> (PodSecurityPolicy, [StatusCause]) {
        var policy = defaults
        var causes: [StatusCause] = []
        func level(_ label: String, failOpen: Bool, _ set: (PodSecurityLevel) -> Void) {
            guard let text = labels[label] else { return }
            let (parsed, error) = PodSecurityLevel.parse(text)
            set(error != nil && failOpen ? .privileged : parsed)
            if let error { causes.append(.invalid("metadata.labels[\(label)]", text, error)) }
        }
        func version(_ label: String, _ set: (PodSecurityVersion) -> Void) {
            guard let text = labels[label + "-version"] else { return }
            let (parsed, error) = PodSecurityVersion.parse(text)
            set(parsed)
            if let error { causes.append(.invalid("metadata.labels[\(label)-version]", text, error)) }
        }
        level(enforceLabel, failOpen: false) { policy.enforce.level = $0 }
        version(enforceLabel) { policy.enforce.version = $0 }
        level(auditLabel, failOpen: true) { policy.audit.level = $0 }
        version(auditLabel) { policy.audit.version = $0 }
        level(warnLabel, failOpen: true) { policy.warn.level = $0 }
        version(warnLabel) { policy.warn.version = $0 }
        // Since Kubernetes 1.26 an enforce label alone also warns (at its version, unless
        // `warn-version` says otherwise): workload resources get warnings about the pods
        // enforce will refuse.
        if labels[warnLabel] == nil, labels[enforceLabel] != nil, policy.warn.level < policy.enforce.level {
            policy.warn.level = policy.enforce.level
            if labels[warnLabel + "-version"] == nil { policy.warn.version = policy.enforce.version }
        }
        return (policy, causes)
    }
}
