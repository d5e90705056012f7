import Foundation
import OrcaClient
import OrcaNetwork
import OrcaRuntime

extension PodSyncer {
    /// The runtime configuration of one container instance.
    func buildConfig(_ pod: JSONValue, _ container: JSONValue, image: Image, env: [(String, String)], id: String,
                     sandbox: PodSandboxNetwork, files: PodFiles.Paths, volumes: [String: String], attempt: Int, restartCount: Int,
                     pidNamespace: String? = nil) throws -> ContainerConfig {
        var environment: [String: String] = [:]
        var envList: [String] = []
        // An image's Env entry with no name ("" or "=x") is ignored.
        let imageEnv = (image.config.env ?? []).filter { !$0.isEmpty && !$0.hasPrefix("=") }
        for entry in imageEnv {
            let parts = entry.split(separator: "=", maxSplits: 1)
            environment[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        for (k, v) in env { environment[k] = v }
        var order = imageEnv.map { String($0.split(separator: "=", maxSplits: 1)[0]) }
        for (k, _) in env where !order.contains(k) { order.append(k) }
        if environment["HOSTNAME"] == nil { environment["HOSTNAME"] = Self.hostname(pod); order.append("HOSTNAME") }
        for k in order { envList.append("\(k)=\(environment[k] ?? "")") }
        let args = ContainerSpecBuilder.commandLine(container: container, image: image.config, env: environment)
        guard !args.isEmpty else { throw EnvironmentResolver.ConfigError(description: "no command specified") }
        let security = ContainerSpecBuilder.security(container)
        let name = container["name"]?.stringValue ?? ""
        let uid = pod.metadataUID ?? ""
        let termPath = paths.terminationMessagePath(uid, container: name, attempt: attempt)
        try FileManager.default.createDirectory(atPath: (termPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: termPath, contents: nil, attributes: [.posixPermissions: 0o666])
        var mounts = try ContainerSpecBuilder.volumeMounts(pod: pod, container: container, volumePaths: volumes,
                                                           env: Dictionary(env, uniquingKeysWith: { _, last in last }),
                                                           subPaths: SubPathResolver(podDirectory: paths.podDirectory(uid)))
        let hasMount = { (dest: String) in mounts.contains { $0.destination == dest } }
        if !hasMount("/etc/hosts") { mounts.append(.init(destination: "/etc/hosts", source: files.hosts)) }
        if !hasMount("/etc/hostname") { mounts.append(.init(destination: "/etc/hostname", source: files.hostname)) }
        if !hasMount("/etc/resolv.conf") { mounts.append(.init(destination: "/etc/resolv.conf", source: files.resolvConf)) }
        let termDest = container["terminationMessagePath"]?.stringValue ?? "/dev/termination-log"
        if !hasMount(termDest) { mounts.append(.init(destination: termDest, source: termPath)) }
        let shm = paths.podDirectory(uid) + "/shm"
        try FileManager.default.createDirectory(atPath: shm, withIntermediateDirectories: true)
        return ContainerConfig(
            id: id, name: "\(pod.metadataName ?? "")_\(pod.metadataNamespace ?? "")_\(name)_\(attempt)",
            args: args, env: envList,
            workingDir: container["workingDir"]?.stringValue ?? image.config.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/",
            user: ContainerSpecBuilder.user(pod: pod, container: container, image: image.config),
            hostname: nil, rootfsLayers: image.layers, readOnlyRootfs: security.readOnly, mounts: mounts,
            namespaces: .init(network: sandbox.namespaces.network, uts: sandbox.namespaces.uts, ipc: sandbox.namespaces.ipc, pid: pidNamespace),
            privileged: security.privileged, capabilities: security.caps, noNewPrivileges: security.noNewPrivs,
            resources: ContainerSpecBuilder.resources(container), cgroupsPath: "\(paths.cgroupRoot)/\(id)",
            shmPath: nil, stopSignal: Self.signalNumber(image.config.stopSignal) ?? 15,
            annotations: ["io.kubernetes.pod.uid": uid, "io.kubernetes.pod.name": pod.metadataName ?? "",
                          "io.kubernetes.pod.namespace": pod.metadataNamespace ?? "", "io.kubernetes.container.name": name,
                          "io.kubernetes.container.restartCount": String(restartCount), "io.orca.attempt": String(attempt)],
            stdio: Self.stdio(container), sysctls: SysctlAllowlist.values(of: pod))
    }

    /// Kubernetes `stdin`, `stdinOnce` and `tty` as the runtime's stdio options (nil when all are off).
    static func stdio(_ container: JSONValue) -> ContainerConfig.Stdio? {
        let stdin = container["stdin"]?.boolValue ?? false
        let tty = container["tty"]?.boolValue ?? false
        guard stdin || tty else { return nil }
        return ContainerConfig.Stdio(stdin: stdin, stdinOnce: container["stdinOnce"]?.boolValue ?? false, tty: tty)
    }

    /// The PID namespace of the running instance of `containerName` in `pod` (an ephemeral
    /// container's `targetContainerName`), or nil when it does not run.
    func pidNamespace(of pod: JSONValue, container containerName: String) async -> String? {
        let uid = pod.metadataUID ?? ""
        let instances = (try? await runtime.list()) ?? []
        for info in instances where info.config.annotations["io.kubernetes.pod.uid"] == uid
            && info.config.annotations["io.kubernetes.container.name"] == containerName {
            if case .running(let pid, _) = info.status, pid > 0 { return "/proc/\(pid)/ns/pid" }
        }
        return nil
    }

    /// An image's `StopSignal` (`SIGQUIT`, `QUIT` or `3`) as a number.
    static func signalNumber(_ name: String?) -> Int32? {
        guard let raw = name?.trimmingCharacters(in: .whitespaces).uppercased(), !raw.isEmpty else { return nil }
        if let n = Int32(raw) { return n }
        let names: [String: Int32] = ["HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9,
                                      "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16,
                                      "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23,
                                      "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "PWR": 30, "SYS": 31]
        return names[raw.hasPrefix("SIG") ? String(raw.dropFirst(3)) : raw]
    }

    static func filesSpec(_ pod: JSONValue, ip: String) -> PodFilesSpec {
        let aliases = (pod[path: ["spec", "hostAliases"]]?.arrayValue ?? []).map {
            PodHostAlias(ip: $0["ip"]?.stringValue ?? "", hostnames: $0["hostnames"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
        var dnsConfig: OrcaNetwork.PodDNSConfig?
        if let dc = pod[path: ["spec", "dnsConfig"]] {
            dnsConfig = OrcaNetwork.PodDNSConfig(
                nameservers: dc["nameservers"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                searches: dc["searches"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                options: (dc["options"]?.arrayValue ?? []).map { .init(name: $0["name"]?.stringValue ?? "", value: $0["value"]?.stringValue) })
        }
        return PodFilesSpec(hostname: hostname(pod), subdomain: pod[path: ["spec", "subdomain"]]?.stringValue,
                            namespace: pod.metadataNamespace ?? "default", podIPs: [ip], hostAliases: aliases,
                            hostNetwork: pod[path: ["spec", "hostNetwork"]]?.boolValue ?? false,
                            dnsPolicy: PodDNSPolicy(rawValue: pod[path: ["spec", "dnsPolicy"]]?.stringValue ?? "ClusterFirst") ?? .clusterFirst,
                            dnsConfig: dnsConfig)
    }
}
