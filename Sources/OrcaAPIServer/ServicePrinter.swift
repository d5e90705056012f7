import Foundation
import OrcaAPI

/// The columns of Services, Endpoints and EndpointSlices as kubectl shows them (Kubernetes'
/// `printService`, `printEndpoints` and `printEndpointSlice`).
enum ServicePrinter {
    typealias Column = TableConvertor.Column

    static let services: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "Type") { o, _ in .string(TableConvertor.str(o, "spec.type")) },
        Column(name: "Cluster-IP") { o, _ in TableConvertor.none(TableConvertor.str(o, "spec.clusterIP")) },
        Column(name: "External-IP") { o, _ in .string(externalIP(o, wide: false)) },
        Column(name: "Port(s)") { o, _ in
            let ports = (o[path: ["spec", "ports"]]?.arrayValue ?? []).map { p -> String in
                let port = p["port"]?.intValue ?? 0
                let proto = p["protocol"]?.stringValue ?? "TCP"
                if let np = p["nodePort"]?.intValue, np != 0 { return "\(port):\(np)/\(proto)" }
                return "\(port)/\(proto)"
            }
            return TableConvertor.none(ports.joined(separator: ","))
        },
        TableConvertor.ageColumn,
        Column(name: "Selector", priority: 1) { o, _ in
            let sel = (o[path: ["spec", "selector"]]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            return TableConvertor.none(sel.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        },
    ]

    /// `getServiceExternalIP`: external IPs; for LoadBalancer the ingress addresses first, or
    /// `<pending>`; for ExternalName the name.
    static func externalIP(_ o: JSONValue, wide: Bool) -> String {
        let external = (o[path: ["spec", "externalIPs"]]?.arrayValue ?? []).compactMap(\.stringValue)
        switch TableConvertor.str(o, "spec.type") {
        case "ClusterIP", "NodePort", "":
            return external.isEmpty ? "<none>" : external.joined(separator: ",")
        case "LoadBalancer":
            var ingress = (o[path: ["status", "loadBalancer", "ingress"]]?.arrayValue ?? [])
                .compactMap { $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue }.joined(separator: ",")
            if !wide, ingress.count > 16 { ingress = String(ingress.prefix(13)) + "..." }
            let all = (ingress.isEmpty ? [] : [ingress]) + external
            return all.isEmpty ? "<pending>" : all.joined(separator: ",")
        case "ExternalName":
            return TableConvertor.str(o, "spec.externalName")
        default:
            return "<unknown>"
        }
    }

    static let endpoints: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "Endpoints") { o, _ in .string(formatEndpoints(o)) },
        TableConvertor.ageColumn,
    ]

    /// `formatEndpoints`: `ip:port` per ready address and port, three at most and a count of the rest.
    static func formatEndpoints(_ o: JSONValue) -> String {
        let subsets = o["subsets"]?.arrayValue ?? []
        if subsets.isEmpty { return "<none>" }
        var list: [String] = []
        var count = 0
        for subset in subsets {
            let addresses = (subset["addresses"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
            let ports = (subset["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.intValue }
            if ports.isEmpty {
                count += addresses.count
                for a in addresses where list.count < 3 { list.append(a) }
            } else {
                for port in ports {
                    count += addresses.count
                    for a in addresses where list.count < 3 { list.append(a.contains(":") ? "[\(a)]:\(port)" : "\(a):\(port)") }
                }
            }
        }
        let joined = list.joined(separator: ",")
        return count > 3 ? "\(joined) + \(count - 3) more..." : joined
    }

    static let endpointSlices: [Column] = [
        TableConvertor.nameColumn,
        Column(name: "AddressType") { o, _ in .string(TableConvertor.str(o, "addressType")) },
        Column(name: "Ports") { o, _ in
            let ports = (o["ports"]?.arrayValue ?? []).map { $0["port"]?.intValue.map(String.init) ?? "<unset>" }
            return .string(firstThree(ports))
        },
        Column(name: "Endpoints") { o, _ in
            let addresses = (o["endpoints"]?.arrayValue ?? []).flatMap { ($0["addresses"]?.arrayValue ?? []).compactMap(\.stringValue) }
            return .string(firstThree(addresses))
        },
        TableConvertor.ageColumn,
    ]

    /// `formatDiscoveryPorts` / `formatDiscoveryEndpoints`: `<unset>` when empty, else three at
    /// most and a count of the rest.
    static func firstThree(_ items: [String]) -> String {
        if items.isEmpty { return "<unset>" }
        let shown = items.prefix(3).joined(separator: ",")
        return items.count > 3 ? "\(shown) + \(items.count - 3) more..." : shown
    }
}
