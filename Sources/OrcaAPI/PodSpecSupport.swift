import OrcaCore

/// What of a pod spec Orca implements: the agent and the API name the rest.
public enum PodSpecSupport {
    /// Pod spec fields Orca accepts but does not implement yet (answered with a Warning header).
    static let unsupported: [(String, String)] = [
        ("affinity", "spec.affinity"), ("topologySpreadConstraints", "spec.topologySpreadConstraints"),
        ("hostPID", "spec.hostPID"), ("hostIPC", "spec.hostIPC"),
        ("shareProcessNamespace", "spec.shareProcessNamespace"), ("runtimeClassName", "spec.runtimeClassName"),
        ("overhead", "spec.overhead"), ("readinessGates", "spec.readinessGates"), ("resourceClaims", "spec.resourceClaims"),
        ("os", "spec.os"), ("hostUsers", "spec.hostUsers"),
    ]

    /// Human-readable notes on the fields of `spec` Orca accepts but does not implement yet.
    public static func unsupportedFields(_ spec: JSONValue) -> [String] {
        var out: [String] = []
        for (key, path) in unsupported where spec[key] != nil && spec[key]?.isNull == false {
            if key == "hostPID" || key == "hostIPC" || key == "shareProcessNamespace", spec[key]?.boolValue != true { continue }
            out.append("\(path) is not implemented by Orca yet and is ignored")
        }
        for list in ["initContainers", "containers"] {
            for (i, c) in (spec[list]?.arrayValue ?? []).enumerated() {
                for key in ["resizePolicy"] where c[key] != nil && c[key]?.isNull == false {
                    out.append("spec.\(list)[\(i)].\(key) is not implemented by Orca yet and is ignored")
                }
            }
        }
        return out
    }
}
