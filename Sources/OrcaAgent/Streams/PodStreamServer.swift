import Foundation
import OrcaClient
import OrcaCore
import OrcaRuntime

/// The node's streaming server (the kubelet's): `logs`, `exec`, `attach` and `port-forward`
/// for the pods on this node, reached through the API server.
///
/// exec and attach go to the container runtime (`ContainerStreaming`); the container is found
/// by the pod UID and container name the runtime records in its annotations, so it is the
/// instance running now even right after a restart. Port-forward connects to the pod's IP on
/// the node's bridge, which reaches `localhost:<port>` of the pod's network namespace for
/// servers bound to all addresses.
struct PodStreamServer: PodStreamProvider {
    let logReader: any PodStreamProvider
    let runtime: any ContainerRuntime
    let dialer = PodPortDialer()

    func logs(pod: JSONValue, query: [String: String]) async throws -> AsyncThrowingStream<[UInt8], any Error> {
        try await logReader.logs(pod: pod, query: query)
    }

    func exec(pod: JSONValue, options: PodExecOptions, streams: ProcessStreams) async throws -> Int32 {
        let (id, streaming) = try await runningContainer(pod, options.container)
        let request = ExecRequest(command: options.command, stdin: options.stdin, tty: options.tty)
        do { return try await streaming.exec(id, request, io: streams) } catch let e as OrcaError {
            throw Self.apiError(e)
        }
    }

    func attach(pod: JSONValue, options: PodExecOptions, streams: ProcessStreams) async throws {
        let (id, streaming) = try await runningContainer(pod, options.container)
        do { try await streaming.attach(id, io: streams) } catch let e as OrcaError {
            throw Self.apiError(e)
        }
    }

    func portForward(pod: JSONValue, port: Int) async throws -> PodPortConnection {
        guard let ip = pod[path: ["status", "podIP"]]?.stringValue, !ip.isEmpty else {
            throw APIError.badRequest("pod \(pod.metadataName ?? "") has no IP yet")
        }
        do { return try await dialer.connect(host: ip, port: port) } catch let e as OrcaError {
            throw APIError.internalError("connecting to \(ip):\(port): \(e.message)")
        }
    }

    /// The running instance of `name` (the only container when nil) in `pod`.
    func runningContainer(_ pod: JSONValue, _ name: String?) async throws -> (String, any ContainerStreaming) {
        guard let streaming = runtime as? any ContainerStreaming else {
            throw APIError(code: 501, reason: "NotImplemented", message: "this node's runtime cannot stream")
        }
        let containerName = name ?? (pod[path: ["spec", "containers"]]?.arrayValue?.first?["name"]?.stringValue ?? "")
        let uid = pod.metadataUID ?? ""
        let candidates = try await runtime.list().filter {
            $0.config.annotations["io.kubernetes.pod.uid"] == uid && $0.config.annotations["io.kubernetes.container.name"] == containerName
        }
        let running = candidates.filter { if case .running = $0.status { return true } else { return false } }
        guard let chosen = running.max(by: { Int($0.config.annotations["io.orca.attempt"] ?? "") ?? 0 < Int($1.config.annotations["io.orca.attempt"] ?? "") ?? 0 }) else {
            throw APIError.badRequest("container \(containerName) in pod \(pod.metadataName ?? "") is not running")
        }
        return (chosen.id, streaming)
    }

    static func apiError(_ e: OrcaError) -> APIError {
        switch e.code {
        case .badRequest, .notFound: return .badRequest(e.message)
        default: return .internalError(e.message)
        }
    }
}


extension EmbeddedAgent {
    /// What the API server serves `pods/log`, `exec`, `attach` and `portforward` with.
    public var streams: any PodStreamProvider { PodStreamServer(logReader: logs, runtime: syncer.runtime) }
}
