/// Everything the runtime needs to create one container — plain values, no Kubernetes types.
///
/// The node agent fills it from the pod spec and the image (Entrypoint/Cmd/Env already merged).
public struct ContainerConfig: Codable, Hashable, Sendable {
    /// The runtime ID: unique on the node, one path component of `[A-Za-z0-9_.-]`.
    public var id: String
    /// A human name for logs and `conmon -n` (e.g. `<pod>_<namespace>_<container>`).
    public var name: String
    /// The command and its arguments (absolute path, or a name looked up in `PATH` of `env`).
    public var args: [String]
    /// `KEY=value` entries.
    public var env: [String]
    /// The working directory, absolute.
    public var workingDir: String
    /// Who the process runs as.
    public var user: User
    /// The hostname to set, or nil to leave the (possibly shared) UTS namespace's name alone.
    public var hostname: String?
    /// The image's unpacked layer directories, bottom first (`Image.layers`).
    public var rootfsLayers: [String]
    /// Mount the root file system read-only.
    public var readOnlyRootfs: Bool
    /// Extra mounts (volumes, `/etc/hosts`, `/etc/resolv.conf` …), applied after the standard ones.
    public var mounts: [Mount]
    /// Existing namespaces to join; nil members get a new namespace. The mount namespace is always new.
    public var namespaces: Namespaces
    /// Privileged: every capability, all devices allowed, no masked or read-only paths, `/sys` writable.
    public var privileged: Bool
    /// Changes to the default capability set (ignored when privileged).
    public var capabilities: CapabilityChanges
    /// Set `no_new_privs` (Kubernetes `allowPrivilegeEscalation: false`).
    public var noNewPrivileges: Bool
    /// cgroup limits.
    public var resources: Resources
    /// The cgroupfs path, e.g. `/orca/pod<uid>/<id>`.
    public var cgroupsPath: String
    /// The OOM score adjustment of the process, if set.
    public var oomScoreAdj: Int?
    /// A directory to bind-mount on `/dev/shm` (the pod's shared memory); nil gives a private 64 MiB tmpfs.
    public var shmPath: String?
    /// The signal `stop` sends first (Kubernetes: the image's STOPSIGNAL, default SIGTERM = 15).
    public var stopSignal: Int32
    /// Written into the OCI spec's annotations (e.g. pod UID, container name) for adoption after a restart.
    public var annotations: [String: String]
    /// Standard input and terminal (Kubernetes `stdin`, `stdinOnce`, `tty`); nil: no input, no terminal.
    public var stdio: Stdio?
    /// Namespaced kernel parameters set in the container's (shared) namespaces before it runs
    /// (OCI `linux.sysctl`, Kubernetes `securityContext.sysctls`); nil: none.
    public var sysctls: [String: String]?

    public init(
        id: String, name: String? = nil, args: [String], env: [String] = [], workingDir: String = "/",
        user: User = User(), hostname: String? = nil, rootfsLayers: [String], readOnlyRootfs: Bool = false,
        mounts: [Mount] = [], namespaces: Namespaces = Namespaces(), privileged: Bool = false,
        capabilities: CapabilityChanges = CapabilityChanges(), noNewPrivileges: Bool = false,
        resources: Resources = Resources(), cgroupsPath: String, oomScoreAdj: Int? = nil,
        shmPath: String? = nil, stopSignal: Int32 = 15, annotations: [String: String] = [:], stdio: Stdio? = nil,
        sysctls: [String: String]? = nil
    ) {
        self.id = id
        self.name = name ?? id
        self.args = args
        self.env = env
        self.workingDir = workingDir
        self.user = user
        self.hostname = hostname
        self.rootfsLayers = rootfsLayers
        self.readOnlyRootfs = readOnlyRootfs
        self.mounts = mounts
        self.namespaces = namespaces
        self.privileged = privileged
        self.capabilities = capabilities
        self.noNewPrivileges = noNewPrivileges
        self.resources = resources
        self.cgroupsPath = cgroupsPath
        self.oomScoreAdj = oomScoreAdj
        self.shmPath = shmPath
        self.stopSignal = stopSignal
        self.annotations = annotations
        self.stdio = stdio
        self.sysctls = sysctls
    }

    /// How the container's standard input and terminal are set up (conmon `-i`, `-t`).
    public struct Stdio: Codable, Hashable, Sendable {
        /// Keep a stdin open that attached clients write to.
        public var stdin: Bool
        /// Close stdin after the first attached client disconnects (else it stays open).
        public var stdinOnce: Bool
        /// Give the process a terminal (`process.terminal`).
        public var tty: Bool

        public init(stdin: Bool = false, stdinOnce: Bool = false, tty: Bool = false) {
            self.stdin = stdin
            self.stdinOnce = stdinOnce
            self.tty = tty
        }
    }

    /// The numeric identity of the process.
    public struct User: Codable, Hashable, Sendable {
        public var uid: UInt32
        public var gid: UInt32
        public var additionalGids: [UInt32]

        public init(uid: UInt32 = 0, gid: UInt32 = 0, additionalGids: [UInt32] = []) {
            self.uid = uid
            self.gid = gid
            self.additionalGids = additionalGids
        }
    }

    /// A mount: `type` `bind` with options such as `rbind`, `ro`; or a file system type and its options.
    public struct Mount: Codable, Hashable, Sendable {
        public var destination: String
        public var type: String
        public var source: String
        public var options: [String]

        public init(destination: String, type: String = "bind", source: String, options: [String] = ["rbind", "rprivate"]) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
        }
    }

    /// Paths of namespaces to join (bind-mounted namespace files, e.g. the pod sandbox's).
    public struct Namespaces: Codable, Hashable, Sendable {
        public var network: String?
        public var uts: String?
        public var ipc: String?
        /// Another container's PID namespace (an ephemeral container's target); nil: a new one.
        public var pid: String?

        public init(network: String? = nil, uts: String? = nil, ipc: String? = nil, pid: String? = nil) {
            self.network = network
            self.uts = uts
            self.ipc = ipc
            self.pid = pid
        }
    }

    /// Kubernetes `securityContext.capabilities`: names with or without `CAP_`, or `ALL`.
    public struct CapabilityChanges: Codable, Hashable, Sendable {
        public var add: [String]
        public var drop: [String]

        public init(add: [String] = [], drop: [String] = []) {
            self.add = add
            self.drop = drop
        }
    }

    /// cgroup limits; nil means unlimited / the kernel default.
    public struct Resources: Codable, Hashable, Sendable {
        public var memoryLimitBytes: Int64?
        public var cpuShares: UInt64?
        public var cpuQuota: Int64?
        public var cpuPeriod: UInt64?
        public var pidsLimit: Int64?

        public init(memoryLimitBytes: Int64? = nil, cpuShares: UInt64? = nil, cpuQuota: Int64? = nil,
                    cpuPeriod: UInt64? = nil, pidsLimit: Int64? = nil) {
            self.memoryLimitBytes = memoryLimitBytes
            self.cpuShares = cpuShares
            self.cpuQuota = cpuQuota
            self.cpuPeriod = cpuPeriod
            self.pidsLimit = pidsLimit
        }
    }
}
