import OrcaCore

/// Creates and removes a pod's network, UTS and IPC namespaces, held by bind mounts — no pause process.
///
/// Layout under the run directory: `netns/<pod-id>`, `uts/<pod-id>`, `ipc/<pod-id>`. Creation runs
/// `unshare --net=FILE --uts=FILE --ipc=FILE hostname <hostname>`: util-linux's unshare makes the three
/// namespaces, bind-mounts them on the files, and `hostname` sets the name inside the new UTS namespace.
/// The namespaces live as long as the bind mounts do; nothing else runs in them.
public struct PodNamespaces: Sendable {
    /// The directory holding `netns/`, `uts/` and `ipc/` (e.g. `/run/orca`).
    public var runDirectory: String
    /// util-linux `unshare`.
    public var unsharePath: String
    /// The `hostname` binary run inside the new UTS namespace.
    public var hostnamePath: String

    /// Creates a namespace manager rooted at `runDirectory`.
    public init(runDirectory: String, unsharePath: String = "/usr/bin/unshare", hostnamePath: String = "/usr/bin/hostname") {
        self.runDirectory = runDirectory
        self.unsharePath = unsharePath
        self.hostnamePath = hostnamePath
    }

    /// Where the namespaces of `podID` are (or would be) held.
    public func paths(podID: String) -> PodNamespacePaths {
        PodNamespacePaths(
            network: "\(runDirectory)/netns/\(podID)",
            uts: "\(runDirectory)/uts/\(podID)",
            ipc: "\(runDirectory)/ipc/\(podID)"
        )
    }

    /// Whether all three namespaces of `podID` are mounted.
    public func exists(podID: String) -> Bool {
        paths(podID: podID).all.allSatisfy(SystemCall.isNamespaceMount)
    }

    /// Creates the namespaces of `podID` with `hostname` set in the UTS namespace.
    ///
    /// Idempotent: when all three are already mounted they are returned untouched (the hostname
    /// is not changed); a partial set left by a crash is removed and made anew.
    /// - Returns: the paths and whether they were made by this call.
    @discardableResult
    public func create(podID: String, hostname: String) async throws -> (paths: PodNamespacePaths, created: Bool) {
        try Self.validate(podID: podID)
        try Self.validate(hostname: hostname)
        let p = paths(podID: podID)
        if exists(podID: podID) { return (p, false) }
        try remove(podID: podID)
        for file in p.all {
            try SystemCall.createDirectories(String(file[..<file.lastIndex(of: "/")!]))
            try SystemCall.createEmptyFile(file)
        }
        do {
            try await HostCommand(
                executable: unsharePath,
                arguments: ["--net=\(p.network)", "--uts=\(p.uts)", "--ipc=\(p.ipc)", hostnamePath, hostname]
            ).checked()
            guard exists(podID: podID) else {
                throw OrcaError(.system, "unshare did not mount the namespaces of pod \(podID)")
            }
        } catch {
            try? remove(podID: podID)
            throw error
        }
        return (p, true)
    }

    /// Unmounts (detached) and removes the namespace files of `podID`. A missing sandbox is fine.
    ///
    /// The network namespace goes away with its last mount, and with it the pod end of its veth.
    public func remove(podID: String) throws {
        try Self.validate(podID: podID)
        for file in paths(podID: podID).all {
            try SystemCall.unmountAll(file)
            try SystemCall.removeFile(file)
        }
    }

    /// Rejects IDs that are not one path component of CNI container-ID characters.
    static func validate(podID: String) throws {
        let allowed = podID.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
        }
        guard !podID.isEmpty, allowed, podID != ".", podID != "..", podID.utf8.count <= 253 else {
            throw OrcaError(.invalid, "invalid pod sandbox ID \"\(podID)\": want letters, digits, '-', '_' or '.'")
        }
    }

    /// Rejects hostnames the kernel or `hostname` would refuse or misread.
    static func validate(hostname: String) throws {
        guard !hostname.isEmpty, hostname.utf8.count <= 64, !hostname.hasPrefix("-"),
              !hostname.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "\0" })
        else {
            throw OrcaError(.invalid, "invalid pod hostname \"\(hostname)\"")
        }
    }
}
