import OrcaAPI

/// The outcome of every check of a level (`AggregateCheckResult`).
struct PodSecurityResult: Sendable, Hashable {
    var violations: [PodSecurityViolation]

    var allowed: Bool { violations.isEmpty }
    /// `host ports, privileged`: the reasons only (what a namespace's existing pods get).
    var forbiddenReason: String { violations.map(\.reason).joined(separator: ", ") }
    /// `hostPort (container "c" uses hostPort 80), privileged (…)`: what a refused request gets.
    var forbiddenDetail: String {
        violations.map { $0.detail.isEmpty ? $0.reason : "\($0.reason) (\($0.detail))" }.joined(separator: ", ")
    }
}

/// The checks of each level and version and their evaluation (pod-security-admission's
/// `checkRegistry`): baseline is every baseline check; restricted adds the restricted checks
/// and drops the baseline ones they override. Versions above the newest check revision, and
/// `latest`, evaluate at that newest version (v1.32 here, as Kubernetes 1.32).
struct PodSecurityEvaluator: Sendable {
    let checks: [PodSecurityCheck]
    let maxVersion: PodSecurityVersion

    static let standard = PodSecurityEvaluator(checks: PodSecurityChecks.baseline + PodSecurityChecks.restricted)

    init(checks: [PodSecurityCheck]) {
        // Baseline checks first, then restricted, each sorted by ID: the order of the reasons.
        self.checks = checks.sorted { ($0.level, $0.id) < ($1.level, $1.id) }
        self.maxVersion = checks.flatMap { $0.revisions.map(\.minimum) }.max() ?? .v1(0)
    }

    /// The checks in force for a level at a version, in message order.
    func evaluations(for lv: PodSecurityLevelVersion) -> [PodSecurityCheck.Evaluate] {
        guard lv.level != .privileged else { return [] }
        let version = maxVersion < lv.version ? maxVersion : lv.version
        let active = checks.compactMap { check in check.revision(at: version).map { (check, $0) } }
            .filter { $0.0.level == .baseline || lv.level == .restricted }
        let overridden = Set(active.filter { $0.0.level == .restricted }.flatMap { $0.1.overrides })
        return active.filter { !($0.0.level == .baseline && overridden.contains($0.0.id)) }.map { $0.1.evaluate }
    }

    /// `EvaluatePod` and `AggregateCheckResults`.
    func evaluate(_ lv: PodSecurityLevelVersion, _ pod: PodSpecView) -> PodSecurityResult {
        PodSecurityResult(violations: evaluations(for: lv).compactMap { $0(pod) })
    }
}
