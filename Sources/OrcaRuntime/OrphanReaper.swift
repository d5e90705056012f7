import Foundation
import Glibc
import OrcaCore
import Synchronization

/// Reaps the zombies a child subreaper inherits: descendants orphaned when their parent died
/// (a container's processes after its conmon was killed, the children of a crashed `runc`)
/// are re-parented to this process, and nobody else waits for them.
///
/// Children this process spawned itself are waited for by their spawner (swift-subprocess,
/// Foundation's `Process`, `StreamedProcess`); reaping one of those first would make its waiter
/// fail, and a spawner may leave its child a zombie for long (swift-subprocess waits with
/// `WNOWAIT` until the output pipes close). Those children share our session, while orphans come
/// from daemons and containers that made sessions of their own (conmon, runc's processes). So a
/// zombie child is reaped only when its session is not ours and it stayed a zombie across two
/// scans.
public final class OrphanReaper: Sendable {
    private let seen = Mutex<Set<Int32>>([])

    public init() {}

    /// One scan: reaps the zombie children already seen as zombies by the previous scan and
    /// remembers the new ones; returns the PIDs reaped.
    @discardableResult
    public func scan() -> [Int32] {
        let ourSession = getsid(0)
        let zombies = Set(Self.zombieChildren(of: getpid()).filter { $0.session != ourSession }.map(\.pid))
        let ripe = seen.withLock { previous -> Set<Int32> in
            let ripe = previous.intersection(zombies)
            previous = zombies.subtracting(ripe)
            return ripe
        }
        var reaped: [Int32] = []
        for pid in ripe.sorted() {
            var status: Int32 = 0
            if Syscall.attempt({ waitpid(pid, &status, WNOHANG) }).result == pid { reaped.append(pid) }
        }
        return reaped
    }

    /// The zombie processes whose parent is `parent`, with their session IDs, from /proc.
    static func zombieChildren(of parent: Int32) -> [(pid: Int32, session: Int32)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).compactMap { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // After the command: state, ppid, pgrp, session.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 3, fields[0] == "Z", Int32(fields[1]) == parent, let session = Int32(fields[3]) else { return nil }
            return (pid, session)
        }
    }
}
