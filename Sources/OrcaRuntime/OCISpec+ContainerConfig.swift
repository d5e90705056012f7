import OrcaCore

extension OCISpec {
    /// The capabilities a container gets by default (Docker's and the CRI runtimes' set).
    public static let defaultCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    /// Every capability Linux defines (numbers 0 through 40), in number order.
    public static let allCapabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    /// Paths hidden from unprivileged containers (runc's default spec).
    public static let defaultMaskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
    ]

    /// Paths read-only in unprivileged containers (runc's default spec).
    public static let defaultReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// The default `PATH`, added when the process environment has none.
    public static let defaultPathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The standard mounts: /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, /sys/fs/cgroup.
    public static func standardMounts(privileged: Bool, shmPath: String?) -> [Mount] {
        let sysOptions = ["nosuid", "noexec", "nodev"] + (privileged ? ["rw"] : ["ro"])
        let shm = shmPath.map { Mount(destination: "/dev/shm", type: "bind", source: $0, options: ["rbind", "nosuid", "noexec", "nodev"]) }
            ?? Mount(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"])
        return [
            Mount(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
            shm,
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: sysOptions),
            Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: sysOptions + ["relatime"]),
        ]
    }

    /// The capability set for `changes` over the defaults: drops first (`ALL` empties the set), then
    /// adds (`ALL` gives every capability). Names may omit `CAP_` and any case is accepted.
    public static func capabilities(privileged: Bool, changes: ContainerConfig.CapabilityChanges) throws -> [String] {
        if privileged { return allCapabilities }
        func normalize(_ name: String) throws -> String {
            let upper = name.uppercased()
            if upper == "ALL" { return upper }
            let full = upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
            guard allCapabilities.contains(full) else { throw OrcaError(.invalid, "unknown capability \"\(name)\"") }
            return full
        }
        let drop = Set(try changes.drop.map(normalize))
        let add = Set(try changes.add.map(normalize))
        var set = drop.contains("ALL") ? Set<String>() : Set(defaultCapabilities).subtracting(drop)
        set.formUnion(add.contains("ALL") ? Set(allCapabilities) : add)
        return allCapabilities.filter(set.contains)
    }

    /// Builds the spec runc runs for `config`, with `rootfs` (the mounted overlay, usually the
    /// bundle-relative `rootfs`) as the root file system.
    public init(_ config: ContainerConfig, rootfs: String = "rootfs") throws {
        try Self.validate(config)
        var env = config.env
        if !env.contains(where: { $0.hasPrefix("PATH=") }) { env.insert(Self.defaultPathEnv, at: 0) }
        let tty = config.stdio?.tty ?? false
        // As CRI-O does: a terminal gets TERM=xterm unless the container sets TERM.
        if tty, !env.contains(where: { $0.hasPrefix("TERM=") }) { env.append("TERM=xterm") }
        var process = Process(
            user: User(uid: config.user.uid, gid: config.user.gid,
                       additionalGids: config.user.additionalGids.isEmpty ? nil : config.user.additionalGids),
            args: config.args, env: env, cwd: config.workingDir,
            capabilities: Capabilities(try Self.capabilities(privileged: config.privileged, changes: config.capabilities)),
            noNewPrivileges: config.noNewPrivileges ? true : nil,
            oomScoreAdj: config.oomScoreAdj)
        process.terminal = tty

        var mounts = Self.standardMounts(privileged: config.privileged, shmPath: config.shmPath)
        let extra = config.mounts.map { Mount(destination: $0.destination, type: $0.type, source: $0.source, options: $0.options) }
        mounts.removeAll { m in extra.contains { $0.destination == m.destination } }
        mounts += extra

        let r = config.resources
        let resources = Resources(
            devices: [DeviceRule(allow: config.privileged, access: "rwm")],
            memory: r.memoryLimitBytes.map { Memory(limit: $0) },
            cpu: (r.cpuShares == nil && r.cpuQuota == nil && r.cpuPeriod == nil)
                ? nil : CPU(shares: r.cpuShares, quota: r.cpuQuota, period: r.cpuPeriod),
            pids: r.pidsLimit.map { Pids(limit: $0) })

        let namespaces = [
            Namespace(type: "pid", path: config.namespaces.pid),
            Namespace(type: "mount"),
            Namespace(type: "network", path: config.namespaces.network),
            Namespace(type: "uts", path: config.namespaces.uts),
            Namespace(type: "ipc", path: config.namespaces.ipc),
        ]
        self.init(
            process: process,
            root: Root(path: rootfs, readonly: config.readOnlyRootfs ? true : nil),
            hostname: config.hostname,
            mounts: mounts,
            annotations: config.annotations.isEmpty ? nil : config.annotations,
            linux: Linux(
                namespaces: namespaces, resources: resources, cgroupsPath: config.cgroupsPath,
                maskedPaths: config.privileged ? nil : Self.defaultMaskedPaths,
                readonlyPaths: config.privileged ? nil : Self.defaultReadonlyPaths,
                sysctl: config.sysctls.flatMap { $0.isEmpty ? nil : $0 }))
    }

    /// Rejects configurations runc would refuse or misread.
    static func validate(_ c: ContainerConfig) throws {
        func invalid(_ why: String) -> OrcaError { OrcaError(.invalid, "container \(c.id): \(why)") }
        try validateID(c.id)
        guard !c.args.isEmpty, !c.args[0].isEmpty else { throw invalid("no command to run") }
        guard c.workingDir.hasPrefix("/") else { throw invalid("working directory \"\(c.workingDir)\" is not absolute") }
        guard c.cgroupsPath.hasPrefix("/"), !c.cgroupsPath.contains("..") else {
            throw invalid("cgroups path \"\(c.cgroupsPath)\" must be absolute")
        }
        guard !c.rootfsLayers.isEmpty else { throw invalid("no root file system layers") }
        for m in c.mounts where !m.destination.hasPrefix("/") {
            throw invalid("mount destination \"\(m.destination)\" is not absolute")
        }
        if let h = c.hostname, h.isEmpty || h.utf8.count > 64 { throw invalid("bad hostname \"\(h)\"") }
    }

    /// A container ID is one path component of `[A-Za-z0-9_.-]`, at most 128 bytes, not starting with `.`.
    static func validateID(_ id: String) throws {
        let ok = !id.isEmpty && id.utf8.count <= 128 && !id.hasPrefix(".") && id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
        }
        guard ok else { throw OrcaError(.invalid, "invalid container ID \"\(id)\": want letters, digits, '-', '_' or '.'") }
    }
}
