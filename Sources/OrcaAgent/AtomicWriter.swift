import Foundation
import OrcaClient
#if canImport(Glibc)
import Glibc
#endif

/// Projects a set of files into a content volume (configMap, secret, downwardAPI, projected)
/// the way the kubelet's AtomicWriter does (pkg/volume/util/atomic_writer.go), so that a
/// reader never sees a partial or mixed set:
///
/// ```
/// <target>/..data            -> ..2024_05_01_12_00_00.1x2y3z   (renamed over in one step)
/// <target>/..2024_05_01_12_00_00.1x2y3z/key, dir/other        (the files)
/// <target>/key               -> ..data/key                     (one link per top-level entry)
/// <target>/dir               -> ..data/dir
/// ```
///
/// A write whose payload the current `..data` directory already holds (same files, bytes and
/// modes) changes nothing. Otherwise the files go to a new directory with an unpredictable
/// name, are fsynced, and a fresh `..data_tmp.<random>` link to it is renamed over `..data`;
/// then the top-level links are added or pruned and the previous directory is removed. Every
/// name the writer creates carries a random part, and files are created with `O_EXCL` and
/// `O_NOFOLLOW`, so nothing can be planted in its way.
struct AtomicWriter: Sendable {
    /// One file of a payload: its exact bytes and its permission bits (0…0o777).
    struct FileProjection: Hashable, Sendable {
        var data: [UInt8]
        var mode: Int

        init(data: [UInt8], mode: Int) {
            self.data = data
            self.mode = mode
        }
    }

    /// The volume directory (created if missing).
    let targetDirectory: String
    /// Wall-clock time, for the readable part of the data directory's name.
    let now: @Sendable () -> Date

    init(targetDirectory: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.targetDirectory = targetDirectory
        self.now = now
    }

    static let dataDirectoryName = "..data"
    static let maxFileNameLength = 255
    static let maxPathLength = 4096

    /// Projects `payload` (relative path → file) into the target directory; returns whether
    /// anything on disk changed. Throws for an invalid payload before touching anything.
    @discardableResult
    func write(_ payload: [String: FileProjection]) throws -> Bool {
        let files = try Self.validate(payload)
        let tops = Set(files.keys.map(Self.topLevelName))
        let target = targetDirectory
        if Self.lstat(target) == nil {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        }
        let dataLink = "\(target)/\(Self.dataDirectoryName)"
        let current = Self.readLink(dataLink).flatMap { Self.isInternalName($0) ? $0 : nil }
        if let current, Self.holds("\(target)/\(current)", exactly: files) {
            // Unchanged: only repair the user-visible links (an interrupted earlier write).
            let added = try linkTopLevelEntries(tops)
            let removed = pruneTopLevelEntries(keeping: tops)
            return added || removed
        }
        let fresh = try makeDataDirectory()
        let freshPath = "\(target)/\(fresh)"
        do {
            try Self.writeFiles(files, into: freshPath)
            try swapDataLink(to: fresh)
        } catch {
            Self.removeTree(freshPath)
            throw error
        }
        _ = try linkTopLevelEntries(tops)
        _ = pruneTopLevelEntries(keeping: tops)
        // The previous data directory, and leftovers of interrupted writes (also the fixed
        // names an earlier version of the agent used).
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
        where Self.isInternalName(entry) && entry != Self.dataDirectoryName && entry != fresh {
            Self.removeTree("\(target)/\(entry)")
        }
        return true
    }

    // MARK: - Validation

    /// The payload with its paths cleaned (`a//b/./c` → `a/b/c`); throws for an empty or
    /// absolute path, a `..` element, a first element starting with `..`, a NUL, an over-long
    /// name, a mode outside 0…0o777, two paths naming one file, or a file that another path
    /// needs as a directory.
    static func validate(_ payload: [String: FileProjection]) throws -> [String: FileProjection] {
        var clean: [String: FileProjection] = [:]
        for (path, file) in payload {
            try validatePath(path)
            guard (0...0o777).contains(file.mode) else {
                throw OrcaError(.invalid, "invalid mode \(String(file.mode, radix: 8)) for \(quoted(path)): must be in 0…0777")
            }
            let cleaned = cleanPath(path)
            guard clean.updateValue(file, forKey: cleaned) == nil else {
                throw OrcaError(.invalid, "invalid path: \(quoted(path)) duplicates another path of the payload")
            }
        }
        let directories = parentDirectories(of: clean.keys)
        if let conflict = clean.keys.sorted().first(where: { directories.contains($0) }) {
            throw OrcaError(.invalid, "invalid path: \(quoted(conflict)) is both a file and a directory of the payload")
        }
        return clean
    }

    /// The kubelet's path rules for one payload path (on bytes, as the kernel reads it).
    static func validatePath(_ path: String) throws {
        guard !path.isEmpty else { throw OrcaError(.invalid, "invalid path: must not be empty") }
        guard path.utf8.first != UInt8(ascii: "/") else { throw OrcaError(.invalid, "invalid path: must be relative path: \(quoted(path))") }
        guard !path.utf8.contains(0) else { throw OrcaError(.invalid, "invalid path: must not contain NUL: \(quoted(path))") }
        guard path.utf8.count <= maxPathLength else {
            throw OrcaError(.invalid, "invalid path: must be less than or equal to \(maxPathLength) characters")
        }
        for item in elements(path, omittingEmpty: false) {
            if isDotDot(item) { throw OrcaError(.invalid, "invalid path: must not contain '..': \(quoted(path))") }
            if item.utf8.count > maxFileNameLength {
                throw OrcaError(.invalid, "invalid path: filenames must be less than or equal to \(maxFileNameLength) characters")
            }
        }
        let cleaned = cleanPath(path)
        guard !cleaned.isEmpty else { throw OrcaError(.invalid, "invalid path: must name a file: \(quoted(path))") }
        if topLevelName(cleaned).utf8.starts(with: "..".utf8) {
            throw OrcaError(.invalid, "invalid path: must not start with '..': \(quoted(path))")
        }
    }

    /// The `/`-separated elements of `path`, split on the byte: to Swift a `/` followed by a
    /// combining mark is one Character, to the kernel it is still a separator.
    static func elements(_ path: String, omittingEmpty: Bool = true) -> [String] {
        path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: omittingEmpty)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    static func isDotDot(_ element: String) -> Bool { element.utf8.elementsEqual("..".utf8) }

    /// `path` without empty and `.` elements.
    static func cleanPath(_ path: String) -> String {
        elements(path).filter { !$0.utf8.elementsEqual(".".utf8) }.joined(separator: "/")
    }

    /// The first element of a clean relative path.
    static func topLevelName(_ path: String) -> String {
        elements(path).first ?? path
    }

    /// Every proper ancestor directory (`a`, `a/b` for `a/b/c`) of the paths.
    static func parentDirectories(of paths: some Sequence<String>) -> Set<String> {
        var directories: Set<String> = []
        for path in paths {
            let parts = elements(path)
            for n in stride(from: 1, to: parts.count, by: 1) { directories.insert(parts[0..<n].joined(separator: "/")) }
        }
        return directories
    }

    /// Names the writer owns in the target directory: user paths never start with `..`.
    static func isInternalName(_ name: String) -> Bool {
        name.utf8.starts(with: "..".utf8) && !isDotDot(name) && !name.utf8.contains(UInt8(ascii: "/"))
    }

    static func quoted(_ s: String) -> String { "\"\(s)\"" }

    // MARK: - Comparing

    /// Whether `directory` holds exactly `files`: the same regular files (no other entries but
    /// their parent directories), each with the same permission bits and bytes.
    static func holds(_ directory: String, exactly files: [String: FileProjection]) -> Bool {
        var found: [String: stat] = [:]
        var directories: Set<String> = []
        let expectedDirectories = parentDirectories(of: files.keys)
        var pending = [""]
        while let relative = pending.popLast() {
            let absolute = relative.isEmpty ? directory : "\(directory)/\(relative)"
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: absolute) else { return false }
            for name in names {
                let path = relative.isEmpty ? name : "\(relative)/\(name)"
                guard let st = lstat("\(directory)/\(path)") else { return false }
                let type = st.st_mode & S_IFMT
                if type == S_IFDIR {
                    directories.insert(path)
                    pending.append(path)
                } else if type == S_IFREG {
                    found[path] = st
                } else {
                    return false
                }
                // More entries than the payload can explain: different, whatever the rest is.
                if found.count > files.count || directories.count > expectedDirectories.count { return false }
            }
        }
        guard Set(found.keys) == Set(files.keys), directories == expectedDirectories else { return false }
        for (path, file) in files {
            guard let st = found[path], Int(st.st_mode & 0o7777) == file.mode, Int(st.st_size) == file.data.count else { return false }
        }
        for (path, file) in files where readBytes("\(directory)/\(path)") != file.data { return false }
        return true
    }

    // MARK: - Writing

    /// Creates `<target>/..<UTC time>.<random>` (mode 0755), retrying on a name clash; returns
    /// its name.
    func makeDataDirectory() throws -> String {
        let prefix = "..\(Self.timestamp(now()))."
        var random = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let name = prefix + String(random.next() as UInt64, radix: 36)
            let path = "\(targetDirectory)/\(name)"
            if mkdir(path, 0o755) == 0 {
                _ = chmod(path, 0o755)  // the umask may have taken bits away
                return name
            }
            if errno == EEXIST || errno == EINTR { continue }
            throw Self.failure("mkdir", path)
        }
        throw OrcaError(.system, "mkdir in \(targetDirectory): no free name after 100 attempts")
    }

    /// Writes every file (with its parent directories, 0755) below `directory`, fsynced.
    static func writeFiles(_ files: [String: FileProjection], into directory: String) throws {
        for (path, file) in files.sorted(by: { $0.key < $1.key }) {
            let parts = elements(path)
            var parent = directory
            for part in parts.dropLast() {
                parent += "/" + part
                if mkdir(parent, 0o755) == 0 {
                    _ = chmod(parent, 0o755)
                } else if errno != EEXIST {
                    throw failure("mkdir", parent)
                }
            }
            try writeFile("\(directory)/\(path)", file)
        }
        syncDirectory(directory)
    }

    /// Creates one file (`O_EXCL`, `O_NOFOLLOW`), sets its mode despite the umask, writes and
    /// fsyncs it.
    static func writeFile(_ path: String, _ file: FileProjection) throws {
        let mode = mode_t(truncatingIfNeeded: file.mode)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        guard fchmod(fd, mode) == 0 else { throw failure("fchmod", path) }
        var offset = 0
        while offset < file.data.count {
            let n = file.data[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write", path)
            }
            offset += n
        }
        guard fsync(fd) == 0 else { throw failure("fsync", path) }
    }

    /// Points `..data` at `name` in one step: a new `..data_tmp.<random>` link renamed over it.
    func swapDataLink(to name: String) throws {
        let dataLink = "\(targetDirectory)/\(Self.dataDirectoryName)"
        let temporary = try Self.makeLink(to: name, in: targetDirectory, prefix: "..data_tmp.")
        guard rename(temporary, dataLink) == 0 else {
            let failure = Self.failure("rename", dataLink)
            unlink(temporary)
            throw failure
        }
        Self.syncDirectory(targetDirectory)
    }

    /// Creates a symlink `<directory>/<prefix><random>` → `destination`; returns its path.
    static func makeLink(to destination: String, in directory: String, prefix: String) throws -> String {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let path = "\(directory)/\(prefix)\(String(random.next() as UInt64, radix: 36))"
            if symlink(destination, path) == 0 { return path }
            if errno == EEXIST || errno == EINTR { continue }
            throw failure("symlink", path)
        }
        throw OrcaError(.system, "symlink in \(directory): no free name after 100 attempts")
    }

    /// Makes `<target>/<top>` a link to `..data/<top>` for each top-level entry; an entry that
    /// is no symlink is left alone, as the kubelet does. Returns whether a link was made.
    func linkTopLevelEntries(_ tops: Set<String>) throws -> Bool {
        var changed = false
        for top in tops.sorted() {
            let path = "\(targetDirectory)/\(top)"
            let destination = "\(Self.dataDirectoryName)/\(top)"
            if let st = Self.lstat(path) {
                guard st.st_mode & S_IFMT == S_IFLNK, Self.readLink(path) != destination else { continue }
                // A link pointing elsewhere is replaced in one step.
                let temporary = try Self.makeLink(to: destination, in: targetDirectory, prefix: "..link_tmp.")
                guard rename(temporary, path) == 0 else {
                    let failure = Self.failure("rename", path)
                    unlink(temporary)
                    throw failure
                }
            } else if symlink(destination, path) != 0 {
                throw Self.failure("symlink", path)
            }
            changed = true
        }
        return changed
    }

    /// Removes the writer's top-level links (`x` → `..data/x`) whose entry left the payload;
    /// returns whether one was removed.
    func pruneTopLevelEntries(keeping tops: Set<String>) -> Bool {
        var changed = false
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: targetDirectory)) ?? []
        where !entry.utf8.starts(with: "..".utf8) && !tops.contains(entry) {
            let path = "\(targetDirectory)/\(entry)"
            guard let st = Self.lstat(path), st.st_mode & S_IFMT == S_IFLNK,
                  Self.readLink(path) == "\(Self.dataDirectoryName)/\(entry)" else { continue }
            if unlink(path) == 0 { changed = true }
        }
        return changed
    }

    // MARK: - File system helpers

    /// `..2006_01_02_15_04_05`-style UTC time, as the kubelet names its data directories.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(Int(exactly: date.timeIntervalSince1970.rounded(.down)) ?? 0)
        var t = tm()
        guard gmtime_r(&seconds, &t) != nil else { return "0000_00_00_00_00_00" }
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(t.tm_year + 1900)_\(two(t.tm_mon + 1))_\(two(t.tm_mday))_\(two(t.tm_hour))_\(two(t.tm_min))_\(two(t.tm_sec))"
    }

    static func lstat(_ path: String) -> stat? {
        var st = stat()
        return Glibc.lstat(path, &st) == 0 ? st : nil
    }

    /// A symlink's destination, or nil when `path` is no symlink.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buffer, 4096)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A regular file's bytes (not following a final symlink); nil when unreadable.
    static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }

    /// Removes `path` and everything below it, never descending into another file system
    /// (a mount point is left in place).
    static func removeTree(_ path: String) {
        guard let root = lstat(path) else { return }
        guard root.st_mode & S_IFMT == S_IFDIR else { unlink(path); return }
        var pending = [path]
        var directories: [String] = []
        while let directory = pending.popLast() {
            directories.append(directory)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                let child = "\(directory)/\(name)"
                guard let st = lstat(child) else { continue }
                if st.st_mode & S_IFMT == S_IFDIR {
                    if st.st_dev == root.st_dev { pending.append(child) }
                } else {
                    unlink(child)
                }
            }
        }
        for directory in directories.reversed() { rmdir(directory) }
    }

    /// fsyncs a directory, so the entries made in it survive a crash.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func failure(_ call: String, _ path: String) -> OrcaError {
        OrcaError(.system, "\(call) \(path): \(String(cString: strerror(errno)))")
    }
}
