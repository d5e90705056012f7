import OrcaAPI

/// The baseline checks: no known privilege escalation.
extension PodSecurityChecks {
    static let baseline: [PodSecurityCheck] = [
        PodSecurityCheck(id: "appArmorProfile", level: .baseline, revisions: [.init(minimum: .v1(0), evaluate: appArmorProfile)]),
        PodSecurityCheck(id: "capabilities_baseline", level: .baseline, revisions: [.init(minimum: .v1(0), evaluate: capabilitiesBaseline)]),
        PodSecurityCheck(id: "hostNamespaces", level: .baseline, revisions: [.init(minimum: .v1(0), evaluate: hostNamespaces)]),
        PodSecurityCheck(id: "hostPathVolumes", level: .baseline, revisions: [.init(minimum: .v1(0), evaluate: hostPathVolumes)]),
        PodSecurityCheck(id: "hostPorts", level: .baseline, revisions: [.init(minimum: .v1(0), evaluate: hostPorts)]),
        PodSecurityCheck(id: "privileged", level: .baseline, revisions: [.init(minimum: .v1(0), evaluate: privileged)]),
        PodSecurityCheck(id: "procMount", level: .baseline, revisions: [.init(minimum: .v1(0), evaluate: procMount)]),
        PodSecurityCheck(id: "seLinuxOptions", level: .baseline, revisions: [
            .init(minimum: .v1(0)) { seLinuxOptions($0, allowedTypes: seLinuxTypes1Dot0) },
            .init(minimum: .v1(31)) { seLinuxOptions($0, allowedTypes: seLinuxTypes1Dot31) },
        ]),
        PodSecurityCheck(id: "seccompProfile_baseline", level: .baseline, revisions: [
            .init(minimum: .v1(0), evaluate: seccompAnnotationsBaseline),
            .init(minimum: .v1(19), evaluate: seccompProfileBaseline),
        ]),
        PodSecurityCheck(id: "sysctls", level: .baseline, revisions: [
            .init(minimum: .v1(0)) { sysctls($0, allowed: sysctls1Dot0) },
            .init(minimum: .v1(27)) { sysctls($0, allowed: sysctls1Dot27) },
            .init(minimum: .v1(29)) { sysctls($0, allowed: sysctls1Dot29) },
            .init(minimum: .v1(32)) { sysctls($0, allowed: sysctls1Dot32) },
        ]),
        PodSecurityCheck(id: "windowsHostProcess", level: .baseline, revisions: [.init(minimum: .v1(0), evaluate: windowsHostProcess)]),
    ]

    // MARK: AppArmor

    /// `appArmorProfileV1Dot0`: the AppArmor profile fields may only be `RuntimeDefault` or
    /// `Localhost`, the beta annotations only `runtime/default` or `localhost/…`.
    static func appArmorProfile(_ pod: PodSpecView) -> PodSecurityViolation? {
        let allowedTypes: Set<String> = ["RuntimeDefault", "Localhost"]
        var setters: [String] = []
        var values = Set<String>()
        if let profile = podField(pod, "appArmorProfile") {
            let type = profile["type"]?.stringValue ?? ""
            if !allowedTypes.contains(type) { setters.append("pod"); values.insert(type) }
        }
        let bad = containerNames(pod) { c in
            guard let type = containerField(c, "appArmorProfile").map({ $0["type"]?.stringValue ?? "" }),
                  !allowedTypes.contains(type) else { return false }
            values.insert(type)
            return true
        }
        if !bad.isEmpty { setters.append(containers(bad)) }
        let prefix = "container.apparmor.security.beta.kubernetes.io/"
        let annotations = pod.annotations.filter { k, v in
            k.hasPrefix(prefix) && !(v.isEmpty || v == "runtime/default" || v.hasPrefix("localhost/"))
        }.map { "\($0.key)=\(GoQuote.quote($0.value))" }.sorted()
        if !annotations.isEmpty { setters.append(pluralize("annotation", "annotations", annotations.count)) }
        guard !setters.isEmpty else { return nil }
        let list = values.sorted() + annotations
        return PodSecurityViolation(reason: pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", list.count),
                                    detail: "\(setters.joined(separator: " and ")) must not set AppArmor profile type to \(joinQuote(list))")
    }

    // MARK: capabilities

    /// `capabilities_allowed_1_0`: what a container may add (the container runtime's default set).
    static let baselineCapabilities: Set<String> = [
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
        "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    ]

    /// `capabilitiesBaseline_1_0`: no capability beyond the default set may be added.
    static func capabilitiesBaseline(_ pod: PodSpecView) -> PodSecurityViolation? {
        var extra = Set<String>()
        let bad = containerNames(pod) { c in
            let added = (containerField(c, "capabilities", "add")?.arrayValue ?? []).map { $0.stringValue ?? "" }
            let beyond = added.filter { !baselineCapabilities.contains($0) }
            extra.formUnion(beyond)
            return !beyond.isEmpty
        }
        guard !bad.isEmpty else { return nil }
        return PodSecurityViolation(reason: "non-default capabilities",
                                    detail: "\(containers(bad)) must not include \(joinQuote(extra.sorted())) in securityContext.capabilities.add")
    }

    // MARK: host namespaces, volumes, ports

    /// `hostNamespaces_1_0`.
    static func hostNamespaces(_ pod: PodSpecView) -> PodSecurityViolation? {
        let shared = ["hostNetwork", "hostPID", "hostIPC"].filter { pod.spec[$0]?.boolValue == true }.map { "\($0)=true" }
        guard !shared.isEmpty else { return nil }
        return PodSecurityViolation(reason: "host namespaces", detail: shared.joined(separator: ", "))
    }

    /// `hostPathVolumes_1_0`.
    static func hostPathVolumes(_ pod: PodSpecView) -> PodSecurityViolation? {
        let names = (pod.spec["volumes"]?.arrayValue ?? []).filter { PodSpecView.set($0["hostPath"]) != nil }.map(PodSpecView.name)
        guard !names.isEmpty else { return nil }
        return PodSecurityViolation(reason: "hostPath volumes", detail: "\(pluralize("volume", "volumes", names.count)) \(joinQuote(names))")
    }

    /// `hostPortsV1Dot0`: no container port may be bound on the host.
    static func hostPorts(_ pod: PodSpecView) -> PodSecurityViolation? {
        var ports = Set<String>()
        let bad = containerNames(pod) { c in
            let used = (c["ports"]?.arrayValue ?? []).compactMap { $0["hostPort"]?.intValue }.filter { $0 != 0 }
            ports.formUnion(used.map(String.init))
            return !used.isEmpty
        }
        guard !bad.isEmpty else { return nil }
        return PodSecurityViolation(reason: "hostPort",
                                    detail: "\(containers(bad)) \(pluralize("uses", "use", bad.count)) \(pluralize("hostPort", "hostPorts", ports.count)) \(ports.sorted().joined(separator: ", "))")
    }

    // MARK: privileged, /proc, SELinux

    /// `privileged_1_0`.
    static func privileged(_ pod: PodSpecView) -> PodSecurityViolation? {
        let bad = containerNames(pod) { containerField($0, "privileged")?.boolValue == true }
        guard !bad.isEmpty else { return nil }
        return PodSecurityViolation(reason: "privileged", detail: "\(containers(bad)) must not set securityContext.privileged=true")
    }

    /// `procMountV1Dot0`: only the default (masked) `/proc`.
    static func procMount(_ pod: PodSpecView) -> PodSecurityViolation? {
        var types = Set<String>()
        let bad = containerNames(pod) { c in
            guard let type = containerField(c, "procMount").map({ $0.stringValue ?? "" }), type != "Default" else { return false }
            types.insert(type)
            return true
        }
        guard !bad.isEmpty else { return nil }
        return PodSecurityViolation(reason: "procMount", detail: "\(containers(bad)) must not set securityContext.procMount to \(joinQuote(types.sorted()))")
    }

    static let seLinuxTypes1Dot0: Set<String> = ["", "container_t", "container_init_t", "container_kvm_t"]
    static let seLinuxTypes1Dot31 = seLinuxTypes1Dot0.union(["container_engine_t"])

    /// `seLinuxOptions`: only the container SELinux types; no user or role.
    static func seLinuxOptions(_ pod: PodSpecView, allowedTypes: Set<String>) -> PodSecurityViolation? {
        var types = Set<String>()
        var setUser = false, setRole = false
        func valid(_ options: JSONValue) -> Bool {
            var ok = true
            let type = options["type"]?.stringValue ?? ""
            if !allowedTypes.contains(type) { ok = false; types.insert(type) }
            if !(options["user"]?.stringValue ?? "").isEmpty { ok = false; setUser = true }
            if !(options["role"]?.stringValue ?? "").isEmpty { ok = false; setRole = true }
            return ok
        }
        var setters: [String] = []
        if let options = podField(pod, "seLinuxOptions"), !valid(options) { setters.append("pod") }
        let bad = containerNames(pod) { c in containerField(c, "seLinuxOptions").map { !valid($0) } ?? false }
        if !bad.isEmpty { setters.append(containers(bad)) }
        guard !setters.isEmpty else { return nil }
        var data: [String] = []
        if !types.isEmpty { data.append("\(pluralize("type", "types", types.count)) \(joinQuote(types.sorted()))") }
        if setUser { data.append("user may not be set") }
        if setRole { data.append("role may not be set") }
        return PodSecurityViolation(reason: "seLinuxOptions",
                                    detail: "\(setters.joined(separator: " and ")) set forbidden securityContext.seLinuxOptions: \(data.joined(separator: "; "))")
    }

    // MARK: seccomp

    static func isAllowedSeccomp(_ type: String) -> Bool { type == "RuntimeDefault" || type == "Localhost" }

    /// `seccompProfileBaseline_1_0` (policy versions before 1.19): the alpha annotations.
    static func seccompAnnotationsBaseline(_ pod: PodSpecView) -> PodSecurityViolation? {
        func allowed(_ v: String) -> Bool { v == "runtime/default" || v == "docker/default" || v.hasPrefix("localhost/") }
        var keys = ["seccomp.security.alpha.kubernetes.io/pod"]
        keys += pod.containers.map { "container.seccomp.security.alpha.kubernetes.io/" + PodSpecView.name($0) }
        let forbidden = Set(keys.compactMap { k in pod.annotations[k].flatMap { allowed($0) ? nil : "\(k)=\(GoQuote.quote($0))" } })
        guard !forbidden.isEmpty else { return nil }
        return PodSecurityViolation(reason: "seccompProfile",
                                    detail: "forbidden \(pluralize("annotation", "annotations", forbidden.count)) \(forbidden.sorted().joined(separator: ", "))")
    }

    /// `seccompProfileBaseline_1_19`: a seccomp profile, when set, is `RuntimeDefault` or
    /// `Localhost` (not `Unconfined`).
    static func seccompProfileBaseline(_ pod: PodSpecView) -> PodSecurityViolation? {
        var values = Set<String>()
        var setters: [String] = []
        if let type = podField(pod, "seccompProfile").map({ $0["type"]?.stringValue ?? "" }), !isAllowedSeccomp(type) {
            setters.append("pod")
            values.insert(type)
        }
        let bad = containerNames(pod) { c in
            guard let type = containerField(c, "seccompProfile").map({ $0["type"]?.stringValue ?? "" }), !isAllowedSeccomp(type) else { return false }
            values.insert(type)
            return true
        }
        if !bad.isEmpty { setters.append(containers(bad)) }
        guard !setters.isEmpty else { return nil }
        return PodSecurityViolation(reason: "seccompProfile",
                                    detail: "\(setters.joined(separator: " and ")) must not set securityContext.seccompProfile.type to \(joinQuote(values.sorted()))")
    }

    // MARK: sysctls, Windows

    static let sysctls1Dot0: Set<String> = [
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
    ]
    static let sysctls1Dot27 = sysctls1Dot0.union(["net.ipv4.ip_local_reserved_ports"])
    static let sysctls1Dot29 = sysctls1Dot27.union(["net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                                                    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"])
    static let sysctls1Dot32 = sysctls1Dot29.union(["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"])

    /// `sysctls`: only the safe (namespaced, isolated) sysctls.
    static func sysctls(_ pod: PodSpecView, allowed: Set<String>) -> PodSecurityViolation? {
        let names = (podField(pod, "sysctls")?.arrayValue ?? []).map { $0["name"]?.stringValue ?? "" }.filter { !allowed.contains($0) }
        guard !names.isEmpty else { return nil }
        return PodSecurityViolation(reason: "forbidden sysctls", detail: names.joined(separator: ", "))
    }

    /// `windowsHostProcessV1Dot0`.
    static func windowsHostProcess(_ pod: PodSpecView) -> PodSecurityViolation? {
        var setters: [String] = []
        if podField(pod, "windowsOptions", "hostProcess")?.boolValue == true { setters.append("pod") }
        let bad = containerNames(pod) { containerField($0, "windowsOptions", "hostProcess")?.boolValue == true }
        if !bad.isEmpty { setters.append(containers(bad)) }
        guard !setters.isEmpty else { return nil }
        return PodSecurityViolation(reason: "hostProcess",
                                    detail: "\(setters.joined(separator: " and ")) must not set securityContext.windowsOptions.hostProcess=true")
    }
}
