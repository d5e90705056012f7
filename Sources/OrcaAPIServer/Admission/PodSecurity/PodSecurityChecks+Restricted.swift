import OrcaAPI

/// The restricted checks: current pod hardening best practice, on top of baseline.
extension PodSecurityChecks {
    static let restricted: [PodSecurityCheck] = [
        PodSecurityCheck(id: "allowPrivilegeEscalation", level: .restricted, revisions: [
            .init(minimum: .v1(8), evaluate: allowPrivilegeEscalation),
            .init(minimum: .v1(25)) { $0.isWindows ? nil : allowPrivilegeEscalation($0) },
        ]),
        PodSecurityCheck(id: "capabilities_restricted", level: .restricted, revisions: [
            .init(minimum: .v1(22), overrides: ["capabilities_baseline"], evaluate: capabilitiesRestricted),
            .init(minimum: .v1(25), overrides: ["capabilities_baseline"]) { $0.isWindows ? nil : capabilitiesRestricted($0) },
        ]),
        PodSecurityCheck(id: "restrictedVolumes", level: .restricted, revisions: [
            .init(minimum: .v1(0), overrides: ["hostPathVolumes"], evaluate: restrictedVolumes),
        ]),
        PodSecurityCheck(id: "runAsNonRoot", level: .restricted, revisions: [.init(minimum: .v1(0), evaluate: runAsNonRoot)]),
        PodSecurityCheck(id: "runAsUser", level: .restricted, revisions: [.init(minimum: .v1(23), evaluate: runAsUser)]),
        PodSecurityCheck(id: "seccompProfile_restricted", level: .restricted, revisions: [
            .init(minimum: .v1(19), overrides: ["seccompProfile_baseline"], evaluate: seccompProfileRestricted),
            .init(minimum: .v1(25), overrides: ["seccompProfile_baseline"]) { $0.isWindows ? nil : seccompProfileRestricted($0) },
        ]),
    ]

    /// `allowPrivilegeEscalation_1_8`: every container must set it to false.
    static func allowPrivilegeEscalation(_ pod: PodSpecView) -> PodSecurityViolation? {
        let bad = containerNames(pod) { containerField($0, "allowPrivilegeEscalation")?.boolValue != false }
        guard !bad.isEmpty else { return nil }
        return PodSecurityViolation(reason: "allowPrivilegeEscalation != false",
                                    detail: "\(containers(bad)) must set securityContext.allowPrivilegeEscalation=false")
    }

    /// `capabilitiesRestricted_1_22`: every container drops `ALL` and adds at most
    /// `NET_BIND_SERVICE`.
    static func capabilitiesRestricted(_ pod: PodSpecView) -> PodSecurityViolation? {
        var missingDropAll: [String] = [], addingForbidden: [String] = []
        var forbidden = Set<String>()
        for c in pod.containers {
            let name = PodSpecView.name(c)
            guard let capabilities = containerField(c, "capabilities") else {
                missingDropAll.append(name)
                continue
            }
            let drop = (capabilities["drop"]?.arrayValue ?? []).map { $0.stringValue ?? "" }
            if !drop.contains("ALL") { missingDropAll.append(name) }
            let added = (capabilities["add"]?.arrayValue ?? []).map { $0.stringValue ?? "" }.filter { $0 != "NET_BIND_SERVICE" }
            if !added.isEmpty {
                addingForbidden.append(name)
                forbidden.formUnion(added)
            }
        }
        var details: [String] = []
        if !missingDropAll.isEmpty {
            details.append("\(containers(missingDropAll)) must set securityContext.capabilities.drop=[\"ALL\"]")
        }
        if !addingForbidden.isEmpty {
            details.append("\(containers(addingForbidden)) must not include \(joinQuote(forbidden.sorted())) in securityContext.capabilities.add")
        }
        guard !details.isEmpty else { return nil }
        return PodSecurityViolation(reason: "unrestricted capabilities", detail: details.joined(separator: "; "))
    }

    /// The volume sources restricted pods may use.
    static let restrictedVolumeSources: Set<String> = [
        "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
    ]

    /// The other known volume sources, in the order `restrictedVolumes_1_0` names them.
    static let forbiddenVolumeSources = [
        "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd",
        "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk",
        "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos",
    ]

    /// `restrictedVolumes_1_0`: only the volume sources of `restrictedVolumeSources` (as of
    /// 1.32, `image` volumes are "unknown").
    static func restrictedVolumes(_ pod: PodSpecView) -> PodSecurityViolation? {
        var names: [String] = []
        var types = Set<String>()
        for volume in pod.spec["volumes"]?.arrayValue ?? [] {
            let sources = Set((volume.objectValue ?? [:]).filter { $0.key != "name" && !$0.value.isNull }.keys)
            if !sources.isDisjoint(with: restrictedVolumeSources) { continue }
            names.append(PodSpecView.name(volume))
            types.insert(forbiddenVolumeSources.first(where: sources.contains) ?? "unknown")
        }
        guard !names.isEmpty else { return nil }
        return PodSecurityViolation(
            reason: "restricted volume types",
            detail: "\(pluralize("volume", "volumes", names.count)) \(joinQuote(names)) \(pluralize("uses", "use", names.count)) \(pluralize("restricted volume type", "restricted volume types", types.count)) \(joinQuote(types.sorted()))")
    }

    /// `runAsNonRoot_1_0`: the pod, or every container, sets `runAsNonRoot: true`, and none
    /// sets it false.
    static func runAsNonRoot(_ pod: PodSpecView) -> PodSecurityViolation? {
        var setters: [String] = []
        var podNonRoot = false
        if let value = podField(pod, "runAsNonRoot")?.boolValue {
            if value { podNonRoot = true } else { setters.append("pod") }
        }
        var explicitlyBad: [String] = [], implicitlyBad: [String] = []
        for c in pod.containers {
            if let value = containerField(c, "runAsNonRoot")?.boolValue {
                if !value { explicitlyBad.append(PodSpecView.name(c)) }
            } else if !podNonRoot {
                implicitlyBad.append(PodSpecView.name(c))
            }
        }
        if !explicitlyBad.isEmpty { setters.append(containers(explicitlyBad)) }
        if !setters.isEmpty {
            return PodSecurityViolation(reason: "runAsNonRoot != true",
                                        detail: "\(setters.joined(separator: " and ")) must not set securityContext.runAsNonRoot=false")
        }
        guard !implicitlyBad.isEmpty else { return nil }
        return PodSecurityViolation(reason: "runAsNonRoot != true",
                                    detail: "pod or \(containers(implicitlyBad)) must set securityContext.runAsNonRoot=true")
    }

    /// `runAsUser_1_23`: neither the pod nor a container runs as UID 0.
    static func runAsUser(_ pod: PodSpecView) -> PodSecurityViolation? {
        var setters: [String] = []
        if podField(pod, "runAsUser")?.intValue == 0 { setters.append("pod") }
        let bad = containerNames(pod) { containerField($0, "runAsUser")?.intValue == 0 }
        if !bad.isEmpty { setters.append(containers(bad)) }
        guard !setters.isEmpty else { return nil }
        return PodSecurityViolation(reason: "runAsUser=0", detail: "\(setters.joined(separator: " and ")) must not set runAsUser=0")
    }

    /// `seccompProfileRestrictedV1Dot19`: the pod, or every container, sets a seccomp profile
    /// of type `RuntimeDefault` or `Localhost`.
    static func seccompProfileRestricted(_ pod: PodSpecView) -> PodSecurityViolation? {
        var setters: [String] = []
        var values = Set<String>()
        var podSet = false
        if let profile = podField(pod, "seccompProfile") {
            let type = profile["type"]?.stringValue ?? ""
            if isAllowedSeccomp(type) { podSet = true } else { setters.append("pod"); values.insert(type) }
        }
        var explicitlyBad: [String] = [], implicitlyBad: [String] = []
        for c in pod.containers {
            if let profile = containerField(c, "seccompProfile") {
                let type = profile["type"]?.stringValue ?? ""
                if !isAllowedSeccomp(type) { explicitlyBad.append(PodSpecView.name(c)); values.insert(type) }
            } else if !podSet {
                implicitlyBad.append(PodSpecView.name(c))
            }
        }
        if !explicitlyBad.isEmpty { setters.append(containers(explicitlyBad)) }
        if !setters.isEmpty {
            return PodSecurityViolation(reason: "seccompProfile",
                                        detail: "\(setters.joined(separator: " and ")) must not set securityContext.seccompProfile.type to \(joinQuote(values.sorted()))")
        }
        guard !implicitlyBad.isEmpty else { return nil }
        return PodSecurityViolation(reason: "seccompProfile",
                                    detail: "pod or \(containers(implicitlyBad)) must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"")
    }
}
