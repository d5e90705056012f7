import Foundation
import OrcaClient

/// What the endpoint controllers read from a pod (`endpointsliceutil` and `podutil` helpers).
extension Pod {
    /// The pod's IPs: `status.podIPs`, or `status.podIP` when the list is empty.
    var endpointIPs: [String] {
        let listed = (status?.podIPs ?? []).compactMap(\.ip).filter { !$0.isEmpty }
        if !listed.isEmpty { return listed }
        if let ip = status?.podIP, !ip.isEmpty { return [ip] }
        return []
    }

    /// Being deleted (`metadata.deletionTimestamp` set).
    var isTerminating: Bool { metadata?.deletionTimestamp != nil }

    /// Whether the pod belongs in a Service's endpoints at all (`ShouldPodBeInEndpoints`):
    /// not terminal, has an IP, and not terminating unless `includeTerminating`.
    func shouldBeInEndpoints(includeTerminating: Bool) -> Bool {
        if isTerminal { return false }
        if endpointIPs.isEmpty { return false }
        if !includeTerminating && isTerminating { return false }
        return true
    }

    /// The container port a service port reaches on this pod (`podutil.FindPort`): a number is
    /// itself; a name is looked up among the containers' ports (and restartable init
    /// containers', the sidecars) with the service port's protocol. Nil when the name is not
    /// found, or the number is not a valid port.
    func targetPort(for servicePort: ServicePort) -> Int32? {
        let port: Int32?
        switch servicePort.targetPort {
        case .int(let n)?:
            port = n == 0 ? servicePort.port : n
        case .string(let name)?:
            if name.isEmpty {
                port = servicePort.port
            } else {
                let proto = servicePort.protocol ?? "TCP"
                let sidecars = (spec?.initContainers ?? []).filter { $0.restartPolicy == "Always" }
                let containers = (spec?.containers ?? []) + sidecars
                port = containers.lazy.flatMap { $0.ports ?? [] }
                    .first { $0.name == name && ($0.protocol ?? "TCP") == proto }?.containerPort
            }
        case nil:
            port = servicePort.port
        }
        guard let port, (1...65535).contains(port) else { return nil }
        return port
    }

    /// The hostname the pod publishes in a Service's endpoints (`ShouldSetHostname`): its
    /// `spec.hostname` when `spec.subdomain` names that Service in the pod's namespace and the
    /// hostname is a valid DNS label; nil otherwise.
    func endpointHostname(for service: Service) -> String? {
        guard let hostname = spec?.hostname, !hostname.isEmpty,
              spec?.subdomain == service.metadata?.name,
              metadata?.namespace == service.metadata?.namespace,
              Self.isDNSLabel(hostname) else { return nil }
        return hostname
    }

    /// A reference to this pod as an endpoint's `targetRef`.
    var endpointTargetRef: ObjectReference {
        ObjectReference(kind: "Pod", name: metadata?.name, namespace: metadata?.namespace, uid: metadata?.uid)
    }

    /// `spec.nodeName`, or nil when empty.
    var boundNodeName: String? {
        guard let node = spec?.nodeName, !node.isEmpty else { return nil }
        return node
    }

    /// What of a pod its endpoints depend on (`podEndpointsChanged`): when two versions differ
    /// here, the Services that select either must be synced again.
    var endpointFingerprint: EndpointFingerprint {
        EndpointFingerprint(labels: metadata?.labels ?? [:], hostname: spec?.hostname, subdomain: spec?.subdomain,
                            terminating: isTerminating, ready: isReady, terminal: isTerminal, ips: endpointIPs,
                            nodeName: spec?.nodeName)
    }

    /// An RFC 1123 label: lower-case alphanumerics and '-', at most 63, alphanumeric at both ends.
    static func isDNSLabel(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
        guard alnum(bytes.first!), alnum(bytes.last!) else { return false }
        return bytes.allSatisfy { alnum($0) || $0 == 0x2d }
    }
}

/// The parts of a pod its endpoints are made of, compared between two versions of the pod.
struct EndpointFingerprint: Equatable, Sendable {
    var labels: [String: String]
    var hostname: String?
    var subdomain: String?
    var terminating: Bool
    var ready: Bool
    var terminal: Bool
    var ips: [String]
    var nodeName: String?
}
