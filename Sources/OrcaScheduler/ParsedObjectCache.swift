import OrcaClient
import Synchronization

/// Pods and nodes parsed for scheduling (`PodInfo`, pod-less `NodeInfo`), kept between
/// cycles by UID or name and resourceVersion, so building a snapshot of a big cluster parses
/// only what changed since the last one.
final class ParsedObjectCache: Sendable {
    private let pods = Mutex<[String: PodInfo]>([:])
    private let nodes = Mutex<[String: NodeInfo]>([:])

    private static func key(_ pod: Pod) -> String {
        let uid = pod.metadata?.uid ?? ""
        return uid.isEmpty ? SharedInformer<Pod>.key(pod) : uid
    }

    /// `pods` parsed, reusing the parse of an unchanged pod.
    func podInfos(_ list: [Pod]) -> [PodInfo] {
        pods.withLock { cache in
            list.map { pod in
                let key = Self.key(pod)
                let version = pod.metadata?.resourceVersion ?? ""
                if !version.isEmpty, let cached = cache[key], cached.resourceVersion == version { return cached }
                let info = PodInfo(pod)
                if !version.isEmpty { cache[key] = info }
                return info
            }
        }
    }

    /// `node` parsed, without pods, reusing the parse of an unchanged node.
    func nodeInfo(_ node: Node) -> NodeInfo {
        let name = node.metadata?.name ?? ""
        let version = node.metadata?.resourceVersion ?? ""
        return nodes.withLock { cache in
            if !version.isEmpty, let cached = cache[name], cached.node.metadata?.resourceVersion == version { return cached }
            let info = NodeInfo(node: node)
            if !version.isEmpty { cache[name] = info }
            return info
        }
    }

    /// Drops a deleted pod.
    func forget(_ pod: Pod) {
        _ = pods.withLock { $0.removeValue(forKey: Self.key(pod)) }
    }

    /// Drops a deleted node.
    func forget(_ node: Node) {
        _ = nodes.withLock { $0.removeValue(forKey: node.metadata?.name ?? "") }
    }
}
