import Foundation
import HTTPTypes
import OrcaAPI
import Synchronization

/// kube-apiserver's max-in-flight filter: at most `maxReadOnly` read-only and `maxMutating`
/// mutating requests are served at once (`--max-requests-inflight`,
/// `--max-mutating-requests-inflight`); beyond that a request gets 429 `TooManyRequests` with
/// `Retry-After: 1`. Long-running requests (watches, logs, exec, attach, port-forward, proxy)
/// hold no slot, and members of `system:masters` and node heartbeats are never turned away
/// (`isExempt`).
/// A limit of 0 means no limit.
public final class InflightLimiter: Sendable {
    public let maxReadOnly: Int
    public let maxMutating: Int
    private let counts = Mutex<(readOnly: Int, mutating: Int)>((0, 0))

    public init(maxReadOnly: Int = 400, maxMutating: Int = 200) {
        self.maxReadOnly = maxReadOnly
        self.maxMutating = maxMutating
    }

    /// Takes a slot; false when the limit for the kind of request is reached.
    public func tryAcquire(mutating: Bool) -> Bool {
        counts.withLock { c in
            if mutating {
                guard maxMutating == 0 || c.mutating < maxMutating else { return false }
                c.mutating += 1
            } else {
                guard maxReadOnly == 0 || c.readOnly < maxReadOnly else { return false }
                c.readOnly += 1
            }
            return true
        }
    }

    /// Gives back a slot taken by `tryAcquire`.
    public func release(mutating: Bool) {
        counts.withLock { c in
            if mutating { c.mutating -= 1 } else { c.readOnly -= 1 }
        }
    }

    /// The requests being served now (read-only, mutating).
    public var inflight: (readOnly: Int, mutating: Int) { counts.withLock { $0 } }

    /// Whether `method` changes state (anything but GET, HEAD and OPTIONS).
    static func isMutating(_ method: HTTPRequest.Method) -> Bool {
        !(method == .get || method == .head || method == .options)
    }

    /// Kubernetes' `BasicLongRunningRequestCheck`: watches and the streaming subresources.
    static func isLongRunning(subresource: String?, query: [String: String]) -> Bool {
        if ListOptions.flag(query["watch"]) { return true }
        guard let subresource else { return false }
        return ["exec", "attach", "portforward", "log", "proxy"].contains(subresource)
    }

    /// Whether `user`'s request for `info` never waits for a slot: members of `system:masters`
    /// (as kube-apiserver's max-in-flight filter exempts them), and a node's heartbeat — its
    /// Node, its status and its Lease in `kube-node-lease` (priority and fairness gives them a
    /// level of their own) — so that no API load can make a healthy node look dead.
    static func isExempt(user: UserInfo, info: RequestInfo?) -> Bool {
        if user.groups.contains("system:masters") { return true }
        guard user.groups.contains("system:nodes"), user.name.hasPrefix("system:node:"), let info,
              info.name == String(user.name.dropFirst("system:node:".count)) else { return false }
        return (info.group == "" && info.resource == "nodes")
            || (info.group == "coordination.k8s.io" && info.resource == "leases" && info.namespace == "kube-node-lease")
    }

    /// Runs `body` holding a slot; throws 429 when none is free (unless `exempt`).
    func serve<T>(mutating: Bool, exempt: Bool, _ body: () async throws -> T) async throws -> T {
        if exempt { return try await body() }
        guard tryAcquire(mutating: mutating) else { throw APIError.tooManyRequests() }
        defer { release(mutating: mutating) }
        return try await body()
    }
}
