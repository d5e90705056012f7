import Foundation
import OrcaClient
#if canImport(Glibc)
import Glibc
#endif

/// `subPath` and `subPathExpr` mounts made safe as the kubelet makes them against
/// CVE-2017-1002101 (pkg/volume/util/subpath/subpath_linux.go).
///
/// Joining a subPath to the volume's path and handing that to the runtime lets a container
/// escape: it plants `evil -> /` in an emptyDir, and the next container mounting subPath
/// `evil` gets the host's `/`. Instead the path is resolved, checked to stay inside the volume,
/// and opened one element at a time from the volume's root with `O_NOFOLLOW` (so a symlink
/// swapped in after the check is refused too); missing directories are created with `mkdirat`
/// the same way. The opened file descriptor is bind-mounted (through `/proc/self/fd/<fd>`) on
/// a private mount point the agent owns, `<pod-dir>/volume-subpaths/<volume>/<container>/<index>`,
/// and that mount point — never the joined path — is the runtime's mount source.
/// `cleanUp(podDirectory:)` unmounts them all when the pod goes.
struct SubPathResolver: Sendable {
    /// `<pod-dir>/volume-subpaths`.
    let root: String

    init(podDirectory: String) {
        root = "\(podDirectory)/volume-subpaths"
    }

    /// `O_PATH` (Linux): an fd that names a file without opening it; not always imported.
    static let oPath: Int32 = 0o10000000
    /// `MS_BIND`.
    static let msBind: UInt = 4096

    // MARK: - The subPath of a volumeMount

    /// The subPath a volumeMount asks for: `subPathExpr` with `$(VAR)` expanded from the
    /// container's environment (a variable that is unset or empty is an error, as in the
    /// kubelet), else `subPath`; nil when neither is set.
    static func subPath(of mount: JSONValue, env: [String: String]) throws -> String? {
        if let expression = mount["subPathExpr"]?.stringValue, !expression.isEmpty {
            var missing: Set<String> = []
            let expanded = EnvironmentResolver.expand(expression) { name in
                guard let value = env[name], !value.isEmpty else {
                    missing.insert(name)
                    return ""
                }
                return value
            }
            guard missing.isEmpty else {
                throw EnvironmentResolver.ConfigError(
                    description: "failed to expand subPathExpr \"\(expression)\": missing value for \(missing.sorted().joined(separator: ", "))")
            }
            return expanded.isEmpty ? nil : expanded
        }
        if let subPath = mount["subPath"]?.stringValue, !subPath.isEmpty { return subPath }
        return nil
    }

    /// The elements of `subPath` (empty and `.` elements dropped); throws unless it is relative
    /// and free of `..` elements and NUL bytes. Split on the byte, as the kernel reads it.
    static func components(of subPath: String) throws -> [String] {
        func refused(_ reason: String) -> EnvironmentResolver.ConfigError {
            EnvironmentResolver.ConfigError(description: "unable to provision subPath \"\(subPath)\": \(reason)")
        }
        guard subPath.utf8.first != UInt8(ascii: "/") else { throw refused("must be a relative path") }
        guard !subPath.utf8.contains(0) else { throw refused("must not contain NUL") }
        let parts = AtomicWriter.elements(subPath)
        guard !parts.contains(where: AtomicWriter.isDotDot) else { throw refused("must not contain '..'") }
        return parts.filter { !$0.utf8.elementsEqual(".".utf8) }
    }

    // MARK: - Mounting

    /// Opens `subPath` below `volumePath` safely (creating missing directories with the
    /// volume's permissions, as the kubelet does), bind-mounts it on this container's private
    /// mount point for volumeMount `index`, and returns that mount point: the source to give the
    /// runtime. A subPath naming the whole volume (`.`) returns `volumePath` itself.
    ///
    /// An earlier mount on the same point (a previous instance of the container) is replaced;
    /// containers already running keep the copy they were created with.
    func prepare(volumePath: String, subPath: String, volumeName: String, containerName: String, index: Int) throws -> String {
        let parts = try Self.components(of: subPath)
        guard !parts.isEmpty else { return volumePath }
        // Details stay short and name no host path (the kubelet shows the user none either).
        func failed(_ reason: String) -> EnvironmentResolver.ConfigError {
            EnvironmentResolver.ConfigError(
                description: "failed to prepare subPath \"\(subPath)\" for volumeMount \"\(volumeName)\" of container \"\(containerName)\": \(reason)")
        }
        func reason(_ what: String) -> String { "\(what): \(String(cString: strerror(errno)))" }
        guard Self.isPlainName(volumeName), Self.isPlainName(containerName), index >= 0 else {
            throw failed("invalid volume or container name")
        }
        guard let base = Self.realPath(volumePath) else { throw failed(reason("resolving the volume")) }

        // The longest prefix that exists (following symlinks, as the kubelet's check does), and
        // where it really is: it must stay inside the volume.
        var existing = 0
        while existing < parts.count, Self.exists(([base] + parts[0...existing]).joined(separator: "/")) { existing += 1 }
        guard let resolved = Self.realPath(([base] + parts[0..<existing]).joined(separator: "/")) else {
            throw failed(reason("resolving the subPath"))
        }
        guard let inside = Self.relative(resolved, to: base) else {
            throw failed("it resolves outside of the volume (through a symlink)")
        }

        // Open it one element at a time, never following a symlink.
        var fd = Self.retrying { open(base, Self.oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw failed(reason("opening the volume")) }
        defer { close(fd) }
        guard let rootStat = Self.status(fd: fd) else { throw failed(reason("examining the volume")) }
        let mode = rootStat.st_mode & 0o777
        for element in inside {
            let next = Self.retrying { openat(fd, element, Self.oPath | O_NOFOLLOW | O_CLOEXEC) }
            guard next >= 0 else { throw failed(reason("opening \"\(element)\"")) }
            close(fd)
            fd = next
            // With O_PATH, O_NOFOLLOW opens a symlink itself instead of failing: look.
            guard let st = Self.status(fd: fd) else { throw failed(reason("examining \"\(element)\"")) }
            guard st.st_mode & S_IFMT != S_IFLNK else { throw failed("\"\(element)\" is a symlink") }
        }
        // Create what is missing, each directory opened again without following a symlink.
        for element in parts[existing...] {
            if Self.retrying({ mkdirat(fd, element, mode) }) != 0, errno != EEXIST {
                throw failed(reason("creating directory \"\(element)\""))
            }
            let next = Self.retrying { openat(fd, element, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            guard next >= 0 else { throw failed(reason("opening directory \"\(element)\"")) }
            close(fd)
            fd = next
            _ = fchmod(fd, mode)  // mkdirat's mode went through the umask
        }
        guard let opened = Self.status(fd: fd) else { throw failed(reason("examining the subPath")) }

        let target = "\(root)/\(volumeName)/\(containerName)/\(index)"
        do {
            try Self.makeMountPoint(target, directory: opened.st_mode & S_IFMT == S_IFDIR)
        } catch {
            throw failed("creating the mount point: \(error)")
        }
        guard mount("/proc/self/fd/\(fd)", target, nil, Self.msBind, nil) == 0 else {
            throw failed(reason("bind mount"))
        }
        // The mount point must show exactly what was opened.
        guard let mounted = Self.status(target), mounted.st_dev == opened.st_dev, mounted.st_ino == opened.st_ino else {
            Self.unmount(target)
            throw failed("the bind mount does not show the opened path")
        }
        return target
    }

    /// A fresh mount point at `target` (a directory, or an empty file for a file subPath), with
    /// anything mounted there before detached.
    static func makeMountPoint(_ target: String, directory: Bool) throws {
        let parent = AtomicWriter.elements(target, omittingEmpty: false).dropLast().joined(separator: "/")
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o750])
        unmount(target)
        if let st = AtomicWriter.lstat(target) {
            let type = st.st_mode & S_IFMT
            if (directory && type == S_IFDIR) || (!directory && type == S_IFREG) { return }
            if type == S_IFDIR { rmdir(target) } else { unlink(target) }
        }
        if directory {
            guard mkdir(target, 0o750) == 0 else { throw AtomicWriter.failure("mkdir", target) }
        } else {
            let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw AtomicWriter.failure("open", target) }
            close(fd)
        }
    }

    // MARK: - Tear-down

    /// Unmounts every subPath mount of the pod and removes `<pod-dir>/volume-subpaths`; returns
    /// false (and removes nothing) when something stays mounted there.
    @discardableResult
    static func cleanUp(podDirectory: String) -> Bool {
        let directory = SubPathResolver(podDirectory: podDirectory).root
        guard AtomicWriter.lstat(directory) != nil else { return true }
        let canonical = realPath(directory) ?? directory
        for _ in 0..<64 {
            let mounts = MountTable.mountPoints(under: canonical)
            if mounts.isEmpty { break }
            for mountPoint in mounts { _ = umount2(mountPoint, Int32(MNT_DETACH)) }
        }
        guard MountTable.mountPoints(under: canonical).isEmpty else { return false }
        AtomicWriter.removeTree(directory)
        return true
    }

    /// Detaches every mount stacked on `path`.
    static func unmount(_ path: String) {
        for _ in 0..<64 {
            guard MountTable.isMountPoint(path), umount2(path, Int32(MNT_DETACH)) == 0 else { return }
        }
    }

    // MARK: - Helpers

    /// A volume or container name usable as one path element.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && !name.utf8.contains(UInt8(ascii: "/")) && !name.utf8.contains(0)
            && !AtomicWriter.isDotDot(name) && !name.utf8.elementsEqual(".".utf8)
    }

    /// The elements of `path` below `base` (both canonical); nil when it is outside.
    static func relative(_ path: String, to base: String) -> [String]? {
        if path.utf8.elementsEqual(base.utf8) { return [] }
        let prefix = base.utf8.last == UInt8(ascii: "/") ? base : base + "/"
        guard path.utf8.starts(with: prefix.utf8) else { return nil }
        return AtomicWriter.elements(String(decoding: path.utf8.dropFirst(prefix.utf8.count), as: UTF8.self))
    }

    /// `realpath(3)`: the canonical path, all symlinks resolved; nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether `path` exists, following symlinks.
    static func exists(_ path: String) -> Bool { status(path) != nil }

    /// `stat(2)`, following symlinks; nil on failure.
    static func status(_ path: String) -> stat? {
        var st = stat()
        return stat(path, &st) == 0 ? st : nil
    }

    /// `fstat(2)`; nil on failure.
    static func status(fd: Int32) -> stat? {
        var st = stat()
        return fstat(fd, &st) == 0 ? st : nil
    }

    /// Runs `call` again while it fails with `EINTR`.
    static func retrying(_ call: () -> Int32) -> Int32 {
        while true {
            let result = call()
            if result == -1 && errno == EINTR { continue }
            return result
        }
    }
}
