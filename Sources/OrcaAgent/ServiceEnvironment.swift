import Foundation
import OrcaAPI

/// The Service environment variables the kubelet gives a container (`envvars.FromServices`):
/// for each Service with a cluster IP, `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT`,
/// `<NAME>_SERVICE_PORT_<PORT NAME>` per named port, and the Docker-link variables
/// `<NAME>_PORT`, `<NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`. Which Services count
/// (`getServiceEnvVarMap`): those of the pod's namespace when `enableServiceLinks` is not false,
/// and always the `kubernetes` Service of `default`.
enum ServiceEnvironment {
    /// The namespace of the `kubernetes` Service, whose variables every pod gets.
    static let masterNamespace = "default"

    /// The variables of `services` (any namespaces; filtered here) for a pod in `namespace`,
    /// sorted by Service name so the result is stable.
    static func variables(services: [Service], namespace: String, enableServiceLinks: Bool) -> [(String, String)] {
        var chosen: [String: Service] = [:]
        for service in services {
            guard let name = service.metadata?.name, let ns = service.metadata?.namespace,
                  let ip = service.spec?.clusterIP, !ip.isEmpty, ip != "None" else { continue }
            if ns == masterNamespace, name == "kubernetes" {
                if chosen[name] == nil { chosen[name] = service }
            } else if ns == namespace, enableServiceLinks {
                // A Service of the pod's namespace named `kubernetes` wins over the master one.
                chosen[name] = service
            }
        }
        var out: [(String, String)] = []
        for name in chosen.keys.sorted() {
            out += variables(of: chosen[name]!)
        }
        return out
    }

    /// The variables of one Service (`FromServices` for one).
    static func variables(of service: Service) -> [(String, String)] {
        guard let name = service.metadata?.name, let ip = service.spec?.clusterIP else { return [] }
        let prefix = envName(name)
        let ports = service.spec?.ports ?? []
        var out: [(String, String)] = [("\(prefix)_SERVICE_HOST", ip)]
        guard let first = ports.first, let firstPort = first.port else { return out }
        out.append(("\(prefix)_SERVICE_PORT", String(firstPort)))
        for p in ports {
            if let portName = p.name, !portName.isEmpty, let n = p.port {
                out.append(("\(prefix)_SERVICE_PORT_\(envName(portName))", String(n)))
            }
        }
        // Docker links: the first port, then each port.
        let firstProto = (first.protocol ?? "TCP").lowercased()
        out.append(("\(prefix)_PORT", "\(firstProto)://\(ip):\(firstPort)"))
        for p in ports {
            guard let n = p.port else { continue }
            let proto = p.protocol ?? "TCP"
            let base = "\(prefix)_PORT_\(n)_\(proto.uppercased())"
            out.append((base, "\(proto.lowercased())://\(ip):\(n)"))
            out.append(("\(base)_PROTO", proto.lowercased()))
            out.append(("\(base)_PORT", String(n)))
            out.append(("\(base)_ADDR", ip))
        }
        return out
    }

    /// `makeEnvVariableName`: upper case, `-` as `_`.
    static func envName(_ s: String) -> String {
        s.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}
