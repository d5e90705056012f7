import OrcaClient

/// The host ports in use on a node, by host IP (the framework's `HostPortInfo`). An empty IP
/// means `0.0.0.0` and an empty protocol `TCP`; a port bound on `0.0.0.0` conflicts with the
/// same protocol and port on any IP.
public struct HostPortInfo: Sendable, Hashable {
    /// A protocol and port.
    public struct ProtocolPort: Sendable, Hashable {
        /// `TCP`, `UDP` or `SCTP`.
        public var proto: String
        /// The host port.
        public var port: Int32
    }

    static let bindAllIP = "0.0.0.0"

    /// In-use ports by host IP.
    public private(set) var ports: [String: Set<ProtocolPort>] = [:]

    /// No ports in use.
    public init() {}

    static func sanitize(_ ip: String?, _ proto: String?) -> (String, String) {
        let ip = (ip ?? "").isEmpty ? bindAllIP : ip!
        let proto = (proto ?? "").isEmpty ? "TCP" : proto!
        return (ip, proto)
    }

    /// Records a container port's host binding.
    public mutating func add(_ port: ContainerPort) {
        guard let hostPort = port.hostPort, hostPort > 0 else { return }
        let (ip, proto) = Self.sanitize(port.hostIP, port.protocol)
        ports[ip, default: []].insert(ProtocolPort(proto: proto, port: hostPort))
    }

    /// Forgets a container port's host binding.
    public mutating func remove(_ port: ContainerPort) {
        guard let hostPort = port.hostPort, hostPort > 0 else { return }
        let (ip, proto) = Self.sanitize(port.hostIP, port.protocol)
        ports[ip]?.remove(ProtocolPort(proto: proto, port: hostPort))
        if ports[ip]?.isEmpty == true { ports[ip] = nil }
    }

    /// Whether binding `port` would clash with a port in use (`HostPortInfo.CheckConflict`).
    public func conflicts(with port: ContainerPort) -> Bool {
        guard let hostPort = port.hostPort, hostPort > 0 else { return false }
        let (ip, proto) = Self.sanitize(port.hostIP, port.protocol)
        let wanted = ProtocolPort(proto: proto, port: hostPort)
        if ip == Self.bindAllIP { return ports.values.contains { $0.contains(wanted) } }
        return ports[Self.bindAllIP]?.contains(wanted) == true || ports[ip]?.contains(wanted) == true
    }

    /// Whether nothing is in use.
    public var isEmpty: Bool { ports.isEmpty }
}
