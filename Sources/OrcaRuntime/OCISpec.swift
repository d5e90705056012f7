import Foundation

/// The subset of the OCI runtime-spec `config.json` Orca writes for runc.
///
/// Field names follow the runtime spec; nil fields are omitted and unknown ones ignored, so a
/// config written by another tool decodes too.
public struct OCISpec: Codable, Hashable, Sendable {
    public var ociVersion: String = "1.0.2"
    public var process: Process
    public var root: Root
    public var hostname: String?
    public var mounts: [Mount]
    public var annotations: [String: String]?
    public var linux: Linux

    public init(process: Process, root: Root, hostname: String? = nil, mounts: [Mount] = [],
                annotations: [String: String]? = nil, linux: Linux) {
        self.process = process
        self.root = root
        self.hostname = hostname
        self.mounts = mounts
        self.annotations = annotations
        self.linux = linux
    }

    /// The container's first process.
    public struct Process: Codable, Hashable, Sendable {
        public var terminal: Bool = false
        public var user: User
        public var args: [String]
        public var env: [String]
        public var cwd: String
        public var capabilities: Capabilities?
        public var rlimits: [Rlimit]?
        public var noNewPrivileges: Bool?
        public var oomScoreAdj: Int?

        public init(user: User, args: [String], env: [String], cwd: String, capabilities: Capabilities? = nil,
                    rlimits: [Rlimit]? = nil, noNewPrivileges: Bool? = nil, oomScoreAdj: Int? = nil) {
            self.user = user
            self.args = args
            self.env = env
            self.cwd = cwd
            self.capabilities = capabilities
            self.rlimits = rlimits
            self.noNewPrivileges = noNewPrivileges
            self.oomScoreAdj = oomScoreAdj
        }
    }

    /// The numeric identity the process runs as.
    public struct User: Codable, Hashable, Sendable {
        public var uid: UInt32
        public var gid: UInt32
        public var umask: UInt32?
        public var additionalGids: [UInt32]?

        public init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil) {
            self.uid = uid
            self.gid = gid
            self.umask = umask
            self.additionalGids = additionalGids
        }
    }

    /// Capability sets, as `CAP_*` names.
    public struct Capabilities: Codable, Hashable, Sendable {
        public var bounding: [String]
        public var effective: [String]
        public var inheritable: [String]
        public var permitted: [String]
        public var ambient: [String]

        /// The same set as bounding, effective and permitted; nothing inheritable or ambient.
        public init(_ caps: [String]) {
            bounding = caps
            effective = caps
            inheritable = []
            permitted = caps
            ambient = []
        }
    }

    /// One resource limit (`RLIMIT_NOFILE` …).
    public struct Rlimit: Codable, Hashable, Sendable {
        public var type: String
        public var hard: UInt64
        public var soft: UInt64

        public init(type: String, hard: UInt64, soft: UInt64) {
            self.type = type
            self.hard = hard
            self.soft = soft
        }
    }

    /// The root file system (the bundle-relative or absolute path of the mounted rootfs).
    public struct Root: Codable, Hashable, Sendable {
        public var path: String
        public var readonly: Bool?

        public init(path: String, readonly: Bool? = nil) {
            self.path = path
            self.readonly = readonly
        }
    }

    /// A mount inside the container.
    public struct Mount: Codable, Hashable, Sendable {
        public var destination: String
        public var type: String?
        public var source: String?
        public var options: [String]?

        public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
        }
    }

    /// Linux-specific configuration.
    public struct Linux: Codable, Hashable, Sendable {
        public var namespaces: [Namespace]
        public var resources: Resources?
        public var cgroupsPath: String?
        public var maskedPaths: [String]?
        public var readonlyPaths: [String]?
        public var sysctl: [String: String]?
        public var rootfsPropagation: String?

        public init(namespaces: [Namespace], resources: Resources? = nil, cgroupsPath: String? = nil,
                    maskedPaths: [String]? = nil, readonlyPaths: [String]? = nil, sysctl: [String: String]? = nil,
                    rootfsPropagation: String? = nil) {
            self.namespaces = namespaces
            self.resources = resources
            self.cgroupsPath = cgroupsPath
            self.maskedPaths = maskedPaths
            self.readonlyPaths = readonlyPaths
            self.sysctl = sysctl
            self.rootfsPropagation = rootfsPropagation
        }
    }

    /// A namespace: a new one, or (with `path`) an existing one to join.
    public struct Namespace: Codable, Hashable, Sendable {
        /// `pid`, `network`, `mount`, `ipc`, `uts`, `user` or `cgroup`.
        public var type: String
        public var path: String?

        public init(type: String, path: String? = nil) {
            self.type = type
            self.path = path
        }
    }

    /// cgroup limits.
    public struct Resources: Codable, Hashable, Sendable {
        public var devices: [DeviceRule]?
        public var memory: Memory?
        public var cpu: CPU?
        public var pids: Pids?

        public init(devices: [DeviceRule]? = nil, memory: Memory? = nil, cpu: CPU? = nil, pids: Pids? = nil) {
            self.devices = devices
            self.memory = memory
            self.cpu = cpu
            self.pids = pids
        }
    }

    /// A device cgroup rule.
    public struct DeviceRule: Codable, Hashable, Sendable {
        public var allow: Bool
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        public var access: String?

        public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = access
        }
    }

    /// Memory limits in bytes.
    public struct Memory: Codable, Hashable, Sendable {
        public var limit: Int64?
        public var reservation: Int64?
        public var swap: Int64?

        public init(limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil) {
            self.limit = limit
            self.reservation = reservation
            self.swap = swap
        }
    }

    /// CPU shares and CFS quota.
    public struct CPU: Codable, Hashable, Sendable {
        public var shares: UInt64?
        public var quota: Int64?
        public var period: UInt64?
        public var cpus: String?

        public init(shares: UInt64? = nil, quota: Int64? = nil, period: UInt64? = nil, cpus: String? = nil) {
            self.shares = shares
            self.quota = quota
            self.period = period
            self.cpus = cpus
        }
    }

    /// The pids controller limit.
    public struct Pids: Codable, Hashable, Sendable {
        public var limit: Int64

        public init(limit: Int64) { self.limit = limit }
    }
}
