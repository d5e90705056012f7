import Foundation
import OrcaClient
import OrcaRuntime

/// Runs one probe of a container once: `exec` inside it, `httpGet`, `tcpSocket` or `grpc`
/// against the pod's IP. Network traffic goes only to the pod's address (or the host the spec names).
struct Prober: Sendable {
    let runtime: any ContainerRuntime

    /// The container instance a probe targets.
    struct Target: Sendable {
        var containerID: String
        var podIP: String
        /// The container's spec (its named ports).
        var container: JSONValue
    }

    /// Success, or the message the kubelet would put after `Liveness probe failed: `.
    func run(_ probe: JSONValue, target: Target, timeout: TimeInterval) async -> (success: Bool, message: String) {
        let deadline = Date().addingTimeInterval(timeout)
        if let exec = probe["exec"] {
            let outcome = await ExecAction(command: exec["command"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                .run(in: target.containerID, runtime: runtime, timeout: timeout)
            if let code = outcome.exitCode { return (code == 0, outcome.output) }
            return (false, outcome.error ?? outcome.output)
        }
        if let get = probe["httpGet"] {
            switch Self.httpGet(get, target: target) {
            case .success(let action): return await action.run(deadline: deadline)
            case .failure(let error): return (false, error.description)
            }
        }
        if let tcp = probe["tcpSocket"] {
            guard let port = Self.port(tcp["port"], container: target.container) else {
                return (false, "unable to resolve port \(tcp["port"]?.jsonString ?? "")")
            }
            let host = tcp["host"]?.stringValue ?? target.podIP
            return await ProbeSocket.offload {
                do { _ = try ProbeSocket(host: host, port: port, deadline: deadline); return (true, "") } catch {
                    return (false, "\(error)")
                }
            }
        }
        if let grpc = probe["grpc"] {
            let port = Int(grpc["port"]?.intValue ?? 0)
            return await GRPCHealthCheck(host: target.podIP, port: port, service: grpc["service"]?.stringValue ?? "").run(deadline: deadline)
        }
        return (false, "the probe has no handler")
    }

    /// The `httpGet` action of a probe or hook, its port resolved against the container's ports.
    static func httpGet(_ get: JSONValue, target: Target) -> Result<HTTPGetAction, ProbeSocket.Failure> {
        guard let port = port(get["port"], container: target.container) else {
            return .failure(.init(description: "unable to resolve port \(get["port"]?.jsonString ?? "")"))
        }
        let headers = (get["httpHeaders"]?.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "", $0["value"]?.stringValue ?? "") }
        let host = get["host"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? target.podIP
        return .success(HTTPGetAction(scheme: get["scheme"]?.stringValue ?? "HTTP", host: host, port: port,
                                      path: get["path"]?.stringValue ?? "/", headers: headers))
    }

    /// A port by number, or by the name of one of the container's ports.
    static func port(_ value: JSONValue?, container: JSONValue) -> Int? {
        if let n = value?.intValue { return Int(n) }
        guard let name = value?.stringValue else { return nil }
        if let n = Int(name) { return n }
        let match = container["ports"]?.arrayValue?.first { $0["name"]?.stringValue == name }
        return match?["containerPort"]?.intValue.map { Int($0) }
    }

    /// The probe's timing and thresholds (Kubernetes' defaults where unset).
    static func settings(_ probe: JSONValue) -> ProbeSettings {
        var s = ProbeSettings()
        if let v = probe["initialDelaySeconds"]?.intValue { s.initialDelay = TimeInterval(v) }
        if let v = probe["periodSeconds"]?.intValue, v > 0 { s.period = TimeInterval(v) }
        if let v = probe["timeoutSeconds"]?.intValue, v > 0 { s.timeout = TimeInterval(v) }
        if let v = probe["successThreshold"]?.intValue, v > 0 { s.successThreshold = Int(v) }
        if let v = probe["failureThreshold"]?.intValue, v > 0 { s.failureThreshold = Int(v) }
        return s
    }
}
