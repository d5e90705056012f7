import OrcaAPI

/// Kubernetes' validation of `securityContext.sysctls` (`validateSysctls`): names of at most
/// 253 characters made of `[a-z0-9]([-_a-z0-9]*[a-z0-9])?` segments joined by `.` or `/`, each
/// name once, and no network sysctl with `hostNetwork` nor IPC sysctl with `hostIPC` (they would
/// change the host's).
extension PodValidation {
    static let sysctlNameRegex = #"^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"#

    static func sysctls(_ spec: JSONValue, _ path: String) -> [StatusCause] {
        var causes: [StatusCause] = []
        var seen: Set<String> = []
        let hostNetwork = spec["hostNetwork"]?.boolValue == true, hostIPC = spec["hostIPC"]?.boolValue == true
        for (i, sysctl) in (spec[path: ["securityContext", "sysctls"]]?.arrayValue ?? []).enumerated() {
            let field = "\(path).securityContext.sysctls[\(i)].name"
            let name = sysctl["name"]?.stringValue ?? ""
            if name.isEmpty {
                causes.append(.required(field))
            } else if !isValidSysctlName(name) {
                causes.append(.invalid(field, name, "must have at most 253 characters and match regex \(sysctlNameRegex)"))
            } else if seen.contains(name) {
                causes.append(.duplicate(field, name))
            }
            seen.insert(name)
            let dotted = name.replacingOccurrences(of: "/", with: ".")
            if hostNetwork, dotted.hasPrefix("net.") {
                causes.append(.invalid(field, name, "may not be specified when 'hostNetwork' is true"))
            }
            if hostIPC, dotted.hasPrefix("kernel.shm") || dotted.hasPrefix("kernel.msg") || dotted == "kernel.sem" || dotted.hasPrefix("fs.mqueue.") {
                causes.append(.invalid(field, name, "may not be specified when 'hostIPC' is true"))
            }
        }
        return causes
    }

    /// `IsValidSysctlName`, without a regular expression.
    static func isValidSysctlName(_ name: String) -> Bool {
        guard name.utf8.count <= 253 else { return false }
        func valid(_ segment: Substring) -> Bool {
            let b = Array(segment.utf8)
            guard let first = b.first, let last = b.last else { return false }
            func alnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
            return alnum(first) && alnum(last) && b.allSatisfy { alnum($0) || $0 == 45 || $0 == 95 }
        }
        return name.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "." || $0 == "/" }).allSatisfy(valid)
    }
}
