import Foundation
import OrcaClient
import OrcaRuntime

/// Turns one container of a pod spec plus its image into the runtime's `ContainerConfig`:
/// command and args combined with the image's entrypoint and cmd, the environment, user,
/// security context, cgroup limits and mounts.
struct ContainerSpecBuilder: Sendable {
    /// Kubernetes' rule: `command` replaces the entrypoint, `args` replaces cmd.
    static func commandLine(container: JSONValue, image: ImageConfig, env: [String: String]) -> [String] {
        let command = container["command"]?.arrayValue?.compactMap(\.stringValue)
        let args = container["args"]?.arrayValue?.compactMap(\.stringValue)
        var line: [String]
        if let command, !command.isEmpty {
            line = command + (args ?? [])
        } else if let args, !args.isEmpty {
            line = (image.entrypoint ?? []) + args
        } else {
            line = (image.entrypoint ?? []) + (image.cmd ?? [])
        }
        line = line.map { EnvironmentResolver.expand($0, env) }
        return line
    }

    /// uid/gid from the security contexts, else the image's numeric `User`.
    static func user(pod: JSONValue, container: JSONValue, image: ImageConfig) -> ContainerConfig.User {
        let podSC = pod[path: ["spec", "securityContext"]]
        let sc = container["securityContext"]
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        if let u = image.user, !u.isEmpty {
            let parts = u.split(separator: ":", omittingEmptySubsequences: false)
            uid = parts.first.flatMap { UInt32($0) } ?? 0
            if parts.count > 1 { gid = UInt32(parts[1]) ?? 0 }
        }
        // Validation keeps these in 0…2147483647; a bad stored value is ignored, never a trap.
        if let u = (sc?["runAsUser"]?.intValue ?? podSC?["runAsUser"]?.intValue).flatMap(UInt32.init(exactly:)) { uid = u }
        if let g = (sc?["runAsGroup"]?.intValue ?? podSC?["runAsGroup"]?.intValue).flatMap(UInt32.init(exactly:)) { gid = g }
        var groups = (podSC?["supplementalGroups"]?.arrayValue ?? []).compactMap { $0.intValue.flatMap(UInt32.init(exactly:)) }
        if let fs = podSC?["fsGroup"]?.intValue.flatMap(UInt32.init(exactly:)) { groups.append(fs) }
        return ContainerConfig.User(uid: uid, gid: gid, additionalGids: groups)
    }

    /// cgroup limits from `resources` (memory bytes; cpu quota per 100 ms period; shares from requests).
    static func resources(_ container: JSONValue) -> ContainerConfig.Resources {
        var r = ContainerConfig.Resources()
        if let m = container[path: ["resources", "limits", "memory"]]?.stringValue, Quantity(m).isValid, Quantity(m).value > 0 {
            r.memoryLimitBytes = Quantity(m).value
        }
        if let c = container[path: ["resources", "limits", "cpu"]]?.stringValue, Quantity(c).isValid {
            r.cpuPeriod = 100_000
            // Quota per 100 ms period, at most what a period can hold for all CPUs the kernel allows.
            r.cpuQuota = min(max(1000, Quantity(c).milliValue.multipliedSaturating(by: 100)), 1 << 40)
        }
        if let c = container[path: ["resources", "requests", "cpu"]]?.stringValue ?? container[path: ["resources", "limits", "cpu"]]?.stringValue,
           Quantity(c).isValid {
            // The kubelet's MilliCPUToShares: 2…262144.
            r.cpuShares = UInt64(min(max(2, Quantity(c).milliValue.multipliedSaturating(by: 1024) / 1000), 262_144))
        } else {
            r.cpuShares = 2
        }
        return r
    }

    /// Volume kinds the kubelet always mounts read-only (since CVE-2017-1002102): their content
    /// is the agent's projection, which a container must not change or extend.
    static let readOnlyVolumeKinds = ["configMap", "secret", "downwardAPI", "projected"]

    /// Mounts of the pod's volumes into the container (`subPath`, `subPathExpr`, `readOnly`).
    ///
    /// configMap, secret, downwardAPI and projected volumes are read-only whatever the
    /// volumeMount says, as is a persistentVolumeClaim volume with `readOnly`. A `subPath` (or
    /// `subPathExpr`, expanded with the container's environment `env`) is never joined to the
    /// volume's path: `subPaths` opens it safely and bind-mounts it on a private mount point,
    /// which becomes the source.
    static func volumeMounts(pod: JSONValue, container: JSONValue, volumePaths: [String: String],
                             env: [String: String], subPaths: SubPathResolver) throws -> [ContainerConfig.Mount] {
        let volumes = pod[path: ["spec", "volumes"]]?.arrayValue ?? []
        let containerName = container["name"]?.stringValue ?? ""
        var mounts: [ContainerConfig.Mount] = []
        for (index, m) in (container["volumeMounts"]?.arrayValue ?? []).enumerated() {
            let name = m["name"]?.stringValue ?? ""
            guard var source = volumePaths[name] else {
                throw EnvironmentResolver.ConfigError(description: "volume \"\(name)\" is not defined")
            }
            let volume = volumes.first { $0["name"]?.stringValue == name }
            let alwaysReadOnly = readOnlyVolumeKinds.contains { kind in
                guard let entry = volume?[kind] else { return false }
                return !entry.isNull
            }
            if let subPath = try SubPathResolver.subPath(of: m, env: env) {
                source = try subPaths.prepare(volumePath: source, subPath: subPath, volumeName: name,
                                              containerName: containerName, index: index)
            }
            // A claim the pod's volume mounts read-only is read-only in every container.
            let claimReadOnly = volume?[path: ["persistentVolumeClaim", "readOnly"]]?.boolValue == true
            var options = ["rbind", "rprivate"]
            if m["readOnly"]?.boolValue == true || alwaysReadOnly || claimReadOnly { options.append("ro") }
            mounts.append(ContainerConfig.Mount(destination: m["mountPath"]?.stringValue ?? "/", source: source, options: options))
        }
        return mounts
    }

    /// The security context's capability changes, privilege and read-only root.
    static func security(_ container: JSONValue) -> (privileged: Bool, caps: ContainerConfig.CapabilityChanges, readOnly: Bool, noNewPrivs: Bool) {
        let sc = container["securityContext"]
        let caps = ContainerConfig.CapabilityChanges(
            add: sc?[path: ["capabilities", "add"]]?.arrayValue?.compactMap(\.stringValue) ?? [],
            drop: sc?[path: ["capabilities", "drop"]]?.arrayValue?.compactMap(\.stringValue) ?? [])
        return (sc?["privileged"]?.boolValue == true, caps, sc?["readOnlyRootFilesystem"]?.boolValue == true,
                sc?["allowPrivilegeEscalation"]?.boolValue == false)
    }
}
