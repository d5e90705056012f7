import Foundation
import Glibc
import OrcaCore

/// cgroupfs paths (v1 controllers under `/sys/fs/cgroup/<controller>`, plus the hybrid `unified`
/// v2 tree), as runc's cgroupfs driver lays out a `cgroupsPath` such as `/orca/pod<uid>/<id>`.
public enum Cgroups {
    /// The mount root of the cgroup hierarchies.
    public static let root = "/sys/fs/cgroup"

    /// The directories of `path` in every mounted hierarchy that has it.
    public static func directories(of path: String, root: String = Cgroups.root) -> [String] {
        let trimmed = path.hasPrefix("/") ? String(path.dropFirst()) : path
        guard !trimmed.isEmpty, !trimmed.contains(".."),
              let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        return names.sorted().compactMap { name -> String? in
            let dir = "\(root)/\(name)/\(trimmed)"
            // Skip the symlinked aliases (cpu -> cpu,cpuacct) so each hierarchy is seen once.
            guard let link = Syscall.lstat("\(root)/\(name)"), (link.st_mode & S_IFMT) == S_IFDIR,
                  let st = Syscall.lstat(dir), (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
            return dir
        }
    }

    /// Whether any hierarchy still has `path`.
    public static func exists(_ path: String, root: String = Cgroups.root) -> Bool {
        !directories(of: path, root: root).isEmpty
    }

    /// Removes `path` and the cgroups below it from every hierarchy (children first). A cgroup
    /// that still has processes stays (`EBUSY` is retried briefly, then reported).
    public static func remove(_ path: String, root: String = Cgroups.root) throws {
        for dir in directories(of: path, root: root) { try removeTree(dir) }
    }

    private static func removeTree(_ dir: String) throws {
        let children = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for child in children {
            if let st = Syscall.lstat("\(dir)/\(child)"), (st.st_mode & S_IFMT) == S_IFDIR { try removeTree("\(dir)/\(child)") }
        }
        for attempt in 0..<50 {
            let (r, e) = Syscall.attempt { rmdir(dir) }
            if r == 0 || e == ENOENT { return }
            guard e == EBUSY, attempt < 49 else { throw Syscall.error("rmdir", dir, errno: e) }
            usleep(10_000)
        }
    }
}
