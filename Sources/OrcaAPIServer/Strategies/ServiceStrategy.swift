import Foundation
import OrcaAPI

/// Services (`pkg/registry/core/service/strategy.go` and `ValidateService`): defaults by type,
/// the fields a type change drops, and validation of type, ports, selector, session affinity,
/// traffic policies and addresses. Cluster IPs and node ports are claimed by
/// `ServiceAddressAllocator` after validation.
struct ServiceStrategy: ResourceStrategy {
    static let types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
    static let protocols = ["SCTP", "TCP", "UDP"]

    func prepareForCreate(_ object: inout JSONValue, context: StrategyContext) throws {
        object["status"] = ["loadBalancer": [:]]
        Self.normalizeClusterIPs(&object)
        Self.defaults(&object)
    }

    /// `normalizeClusterIPs`: a `clusterIPs` without `clusterIP` gives it its first entry.
    static func normalizeClusterIPs(_ service: inout JSONValue) {
        let ip = service[path: ["spec", "clusterIP"]]?.stringValue ?? ""
        if ip.isEmpty, let first = service[path: ["spec", "clusterIPs"]]?.arrayValue?.first?.stringValue, !first.isEmpty {
            service[path: ["spec", "clusterIP"]] = .string(first)
        }
    }

    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue, context: StrategyContext) throws {
        Self.normalizeClusterIPs(&object)
        Self.patchAllocatedValues(&object, old: old)
        Self.dropTypeDependentFields(&object, old: old)
        Self.defaults(&object)
        if object["status"] == nil { object["status"] = old["status"] ?? ["loadBalancer": [:]] }
    }

    /// Whether a Service has node ports (`needsNodePort`): NodePort and LoadBalancer, whose
    /// requested node ports are claimed.
    static func hasNodePorts(_ service: JSONValue) -> Bool {
        ["NodePort", "LoadBalancer"].contains(service[path: ["spec", "type"]]?.stringValue ?? "ClusterIP")
    }

    /// Whether missing node ports are allocated: NodePort, and LoadBalancer unless
    /// `allocateLoadBalancerNodePorts` is false.
    static func allocatesNodePorts(_ service: JSONValue) -> Bool {
        switch service[path: ["spec", "type"]]?.stringValue ?? "ClusterIP" {
        case "NodePort": return true
        case "LoadBalancer": return service[path: ["spec", "allocateLoadBalancerNodePorts"]]?.boolValue ?? true
        default: return false
        }
    }

    /// `patchAllocatedValues`: a replace that leaves out what was allocated keeps it — the
    /// cluster IP when it comes empty, and each node port (matched by port name, or the only
    /// port) when both the old and new types have node ports.
    static func patchAllocatedValues(_ service: inout JSONValue, old: JSONValue) {
        let type = service[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
        if type != "ExternalName", (service[path: ["spec", "clusterIP"]]?.stringValue ?? "").isEmpty {
            service[path: ["spec", "clusterIP"]] = old[path: ["spec", "clusterIP"]]
            service[path: ["spec", "clusterIPs"]] = old[path: ["spec", "clusterIPs"]]
        }
        guard hasNodePorts(service), hasNodePorts(old), var ports = service[path: ["spec", "ports"]]?.arrayValue else { return }
        let before = old[path: ["spec", "ports"]]?.arrayValue ?? []
        for i in ports.indices where ports[i]["nodePort"] == nil || ports[i]["nodePort"] == .int(0) {
            let name = ports[i]["name"]?.stringValue ?? ""
            let match = before.count == 1 && ports.count == 1 ? before.first : before.first { ($0["name"]?.stringValue ?? "") == name }
            if let nodePort = match?["nodePort"], nodePort.intValue != nil { ports[i]["nodePort"] = nodePort }
        }
        service[path: ["spec", "ports"]] = .array(ports)
    }

    /// `dropTypeDependentFields`: a change of type drops what only the old type had, unless the
    /// client changed it too — node ports leaving NodePort/LoadBalancer, the cluster IP going to
    /// ExternalName, the external traffic policy leaving NodePort/LoadBalancer.
    static func dropTypeDependentFields(_ service: inout JSONValue, old: JSONValue) {
        let type = service[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
        if hasNodePorts(old), !hasNodePorts(service), var ports = service[path: ["spec", "ports"]]?.arrayValue {
            let before = Dictionary((old[path: ["spec", "ports"]]?.arrayValue ?? []).map { (portKey($0), $0["nodePort"]) },
                                    uniquingKeysWith: { a, _ in a })
            if ports.allSatisfy({ $0["nodePort"] == nil || before[portKey($0)] == $0["nodePort"] }) {
                for i in ports.indices { ports[i]["nodePort"] = nil }
                service[path: ["spec", "ports"]] = .array(ports)
            }
        }
        if type == "ExternalName", (old[path: ["spec", "type"]]?.stringValue ?? "ClusterIP") != "ExternalName" {
            if service[path: ["spec", "clusterIP"]] == old[path: ["spec", "clusterIP"]] {
                service[path: ["spec", "clusterIP"]] = nil
                service[path: ["spec", "clusterIPs"]] = nil
            }
            for field in ["ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"] where service[path: ["spec", field]] == old[path: ["spec", field]] {
                service[path: ["spec", field]] = nil
            }
        }
        if type != "NodePort", type != "LoadBalancer",
           service[path: ["spec", "externalTrafficPolicy"]] == old[path: ["spec", "externalTrafficPolicy"]] {
            service[path: ["spec", "externalTrafficPolicy"]] = nil
        }
    }

    static func portKey(_ port: JSONValue) -> String {
        "\(port["protocol"]?.stringValue ?? "TCP")/\(port["port"]?.intValue ?? 0)"
    }

    /// `SetDefaults_Service` and the strategy's defaults.
    static func defaults(_ o: inout JSONValue) {
        if o[path: ["spec", "type"]] == nil { o[path: ["spec", "type"]] = "ClusterIP" }
        let type = o[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
        if o[path: ["spec", "sessionAffinity"]] == nil { o[path: ["spec", "sessionAffinity"]] = "None" }
        // `SetDefaults_Service`: no affinity, no affinity config.
        if o[path: ["spec", "sessionAffinity"]]?.stringValue == "None" { o[path: ["spec", "sessionAffinityConfig"]] = nil }
        if o[path: ["spec", "sessionAffinity"]]?.stringValue == "ClientIP",
           o[path: ["spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"]] == nil {
            o[path: ["spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"]] = 10800
        }
        if type != "ExternalName" {
            if o[path: ["spec", "internalTrafficPolicy"]] == nil { o[path: ["spec", "internalTrafficPolicy"]] = "Cluster" }
            if o[path: ["spec", "ipFamilies"]] == nil { o[path: ["spec", "ipFamilies"]] = ["IPv4"] }
            if o[path: ["spec", "ipFamilyPolicy"]] == nil { o[path: ["spec", "ipFamilyPolicy"]] = "SingleStack" }
        }
        if type == "NodePort" || type == "LoadBalancer", o[path: ["spec", "externalTrafficPolicy"]] == nil {
            o[path: ["spec", "externalTrafficPolicy"]] = "Cluster"
        }
        if type == "LoadBalancer", o[path: ["spec", "allocateLoadBalancerNodePorts"]] == nil {
            o[path: ["spec", "allocateLoadBalancerNodePorts"]] = true
        }
        if let ports = o[path: ["spec", "ports"]]?.arrayValue {
            o[path: ["spec", "ports"]] = .array(ports.map { p in
                var p = p
                if p["protocol"] == nil { p["protocol"] = "TCP" }
                if p["targetPort"] == nil || p["targetPort"] == .int(0) || p["targetPort"] == .string("") { p["targetPort"] = p["port"] }
                return p
            })
        }
    }

    func validate(_ object: JSONValue, old: JSONValue?) -> [StatusCause] {
        let spec = object["spec"] ?? [:]
        var causes: [StatusCause] = []
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        if !Self.types.contains(type) { causes.append(.notSupported("spec.type", type, Self.types)) }
        let clusterIP = spec["clusterIP"]?.stringValue ?? ""
        let headless = clusterIP == "None"
        if type == "ExternalName" {
            let name = spec["externalName"]?.stringValue ?? ""
            if name.isEmpty {
                causes.append(.required("spec.externalName"))
            } else if !ObjectMetaRules.isDNS1123Subdomain(name.hasSuffix(".") ? String(name.dropLast()) : name) {
                causes.append(.invalid("spec.externalName", name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))
            }
            if !clusterIP.isEmpty { causes.append(.forbidden("spec.clusterIPs", "may not be set for ExternalName services")) }
        } else if !clusterIP.isEmpty, !headless, IPAddress.parse(clusterIP) == nil {
            causes.append(.invalid("spec.clusterIPs[0]", clusterIP, "must be empty, 'None', or a valid IP address"))
        }
        if type != "ExternalName", let ips = spec["clusterIPs"]?.arrayValue, !ips.isEmpty {
            if ips.count > 1 {
                causes.append(.invalid("spec.clusterIPs", ips.compactMap(\.stringValue).joined(separator: ","),
                                       "only one IP family is configured on this cluster"))
            } else if let first = ips.first?.stringValue, first != clusterIP {
                causes.append(.invalid("spec.clusterIPs[0]", first, "must match `clusterIP` when both are specified"))
            }
        }
        causes += Self.validateIPFamilies(spec, type: type)
        if headless, type == "NodePort" || type == "LoadBalancer" {
            causes.append(.invalid("spec.clusterIPs[0]", clusterIP, "may not be set to 'None' for \(type) services"))
        }
        if let old, let was = old[path: ["spec", "clusterIP"]]?.stringValue, !was.isEmpty, type != "ExternalName",
           (old[path: ["spec", "type"]]?.stringValue ?? "ClusterIP") != "ExternalName", clusterIP != was {
            causes.append(.invalid("spec.clusterIPs[0]", clusterIP, "may not change once set"))
        }
        causes += Self.validatePorts(spec, type: type, headless: headless)
        causes += WorkloadValidation.validateLabels(spec["selector"], path: "spec.selector")
        causes += Self.validateAffinity(spec)
        if let policy = spec["internalTrafficPolicy"]?.stringValue, !["Cluster", "Local"].contains(policy) {
            causes.append(.notSupported("spec.internalTrafficPolicy", policy, ["Cluster", "Local"]))
        }
        if let external = spec["externalTrafficPolicy"]?.stringValue {
            if type != "NodePort", type != "LoadBalancer" {
                causes.append(.invalid("spec.externalTrafficPolicy", external, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
            } else if !["Cluster", "Local"].contains(external) {
                causes.append(.notSupported("spec.externalTrafficPolicy", external, ["Cluster", "Local"]))
            }
        }
        for (i, ip) in (spec["externalIPs"]?.arrayValue ?? []).enumerated() {
            causes += IPAddress.validateEndpointIP(ip.stringValue ?? "", field: "spec.externalIPs[\(i)]")
        }
        return causes
    }

    /// Each port: name (required and unique when there are several), number, protocol, target
    /// port, node port only for NodePort/LoadBalancer; no port and protocol twice.
    static func validatePorts(_ spec: JSONValue, type: String, headless: Bool) -> [StatusCause] {
        var causes: [StatusCause] = []
        let ports = spec["ports"]?.arrayValue ?? []
        if ports.isEmpty, type != "ExternalName", !headless { causes.append(.required("spec.ports")) }
        var names: Set<String> = []
        var pairs: Set<String> = []
        for (i, p) in ports.enumerated() {
            let path = "spec.ports[\(i)]"
            let name = p["name"]?.stringValue ?? ""
            if ports.count > 1, name.isEmpty { causes.append(.required("\(path).name")) }
            if !name.isEmpty {
                if !ObjectMetaRules.isDNS1123Label(name) {
                    causes.append(.invalid("\(path).name", name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"))
                } else if !names.insert(name).inserted {
                    causes.append(.duplicate("\(path).name", name))
                }
            }
            causes += IPAddress.validatePort(p["port"], field: "\(path).port")
            let proto = p["protocol"]?.stringValue ?? "TCP"
            if !protocols.contains(proto) { causes.append(.notSupported("\(path).protocol", proto, protocols)) }
            switch p["targetPort"] {
            case .some(let target) where target.intValue != nil:
                causes += IPAddress.validatePort(target, field: "\(path).targetPort")
            case .some(let target) where target.stringValue != nil:
                let s = target.stringValue ?? ""
                if !PodValidation.isPortName(s) || Int(s) != nil {
                    causes.append(.invalid("\(path).targetPort", s, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"))
                }
            default: break
            }
            if let nodePort = p["nodePort"]?.intValue {
                if type == "ClusterIP" || type == "ExternalName" {
                    causes.append(.forbidden("\(path).nodePort", "may not be used when `type` is '\(type)'"))
                } else if !(1...65535).contains(nodePort) {
                    causes.append(.invalid("\(path).nodePort", number: nodePort, "must be between 1 and 65535, inclusive"))
                }
            }
            let pair = portKey(p)
            if !pairs.insert(pair).inserted { causes.append(.duplicate(path, "{\(proto) \(p["port"]?.intValue ?? 0)}")) }
        }
        return causes
    }

    /// This cluster is IPv4 single-stack: `ipFamilies` may only name IPv4, and dual stack
    /// cannot be required.
    static func validateIPFamilies(_ spec: JSONValue, type: String) -> [StatusCause] {
        guard type != "ExternalName" else { return [] }
        var causes: [StatusCause] = []
        for (i, family) in (spec["ipFamilies"]?.arrayValue ?? []).enumerated() {
            let f = family.stringValue ?? ""
            if !["IPv4", "IPv6"].contains(f) {
                causes.append(.notSupported("spec.ipFamilies[\(i)]", f, ["IPv4", "IPv6"]))
            } else if f != "IPv4" {
                causes.append(.invalid("spec.ipFamilies[\(i)]", f, "not configured on this cluster"))
            }
        }
        if let policy = spec["ipFamilyPolicy"]?.stringValue {
            if !["PreferDualStack", "RequireDualStack", "SingleStack"].contains(policy) {
                causes.append(.notSupported("spec.ipFamilyPolicy", policy, ["PreferDualStack", "RequireDualStack", "SingleStack"]))
            } else if policy == "RequireDualStack" {
                causes.append(.invalid("spec.ipFamilyPolicy", policy, "this cluster is not configured for dual-stack services"))
            }
        }
        return causes
    }

    /// `sessionAffinity` None or ClientIP, and the ClientIP timeout 1…86400 s (defaulting drops the config of None).
    static func validateAffinity(_ spec: JSONValue) -> [StatusCause] {
        let affinity = spec["sessionAffinity"]?.stringValue ?? "None"
        guard ["ClientIP", "None"].contains(affinity) else { return [.notSupported("spec.sessionAffinity", affinity, ["ClientIP", "None"])] }
        if affinity == "ClientIP", let t = spec[path: ["sessionAffinityConfig", "clientIP", "timeoutSeconds"]]?.intValue, !(1...86400).contains(t) {
            return [.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", number: t, "must be greater than 0 and less than 86400")]
        }
        return []
    }
}
