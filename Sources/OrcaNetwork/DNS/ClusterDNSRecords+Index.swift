import OrcaAPI

extension ClusterDNSRecords {
    /// A Service's namespace and name, lowercased.
    struct ServiceKey: Hashable, Sendable {
        var namespace: String
        var name: String
    }

    /// What a Service name resolves to.
    struct ServiceEntry: Sendable {
        enum Kind: Sendable {
            /// A/AAAA of the cluster IPs.
            case clusterIP([IPAddress])
            /// A/AAAA of the ready endpoints.
            case headless
            /// A CNAME.
            case externalName(DNSName)
        }

        var kind: Kind
        /// `<svc>.<ns>.svc.<zone>`.
        var name: DNSName
        /// Named ports as `_<port>._<proto>` → Service port.
        var ports: [String: UInt16]
        /// Ready endpoint addresses in slice order, each once (headless only).
        var addresses: [IPAddress]
        /// Ready endpoints, one per (host label, address) (headless only).
        var endpoints: [HeadlessEndpoint]
        /// Host label (lowercased) → addresses (headless only).
        var hosts: [String: [IPAddress]]

        /// Whether `<svc>.<ns>.svc.<zone>` exists: a headless Service needs a ready endpoint.
        var exists: Bool {
            if case .headless = kind { return !addresses.isEmpty }
            return true
        }
    }

    /// A ready endpoint address of a headless Service.
    struct HeadlessEndpoint: Sendable {
        /// The `hostname`, else the dashed address; lowercased.
        var label: String
        var address: IPAddress
        /// Named ports as `_<port>._<proto>` → endpoint port.
        var ports: [String: UInt16]
    }

    /// Whose name a reverse lookup returns: the Service, or one of its headless endpoints.
    struct ReverseTarget: Sendable {
        var service: ServiceKey
        var label: String?
    }

    /// The dictionaries, built in one pass over the Services and one over the slices.
    struct Index {
        var services: [ServiceKey: ServiceEntry] = [:]
        var namespaces: Set<String> = []
        var reverse: [IPAddress: [ReverseTarget]] = [:]

        init(services list: [Service], endpointSlices: [EndpointSlice], zone: DNSName) {
            var slicesByService: [ServiceKey: [EndpointSlice]] = [:]
            for slice in endpointSlices {
                guard let namespace = slice.metadata?.namespace, let service = slice.metadata?.labels?[ClusterDNSRecords.serviceNameLabel],
                      slice.addressType != "FQDN" else { continue }
                slicesByService[ServiceKey(namespace: namespace.lowercased(), name: service.lowercased()), default: []].append(slice)
            }
            services.reserveCapacity(list.count)
            for service in list {
                guard let name = service.metadata?.name, !name.isEmpty, let namespace = service.metadata?.namespace, !namespace.isEmpty,
                      let spec = service.spec else { continue }
                let key = ServiceKey(namespace: namespace.lowercased(), name: name.lowercased())
                guard let fqdn = try? DNSName(byteLabels: [Array(key.name.utf8), Array(key.namespace.utf8), Array("svc".utf8)] + zone.labels),
                      let entry = Self.entry(service: service, spec: spec, name: fqdn, slices: slicesByService[key] ?? [])
                else { continue }
                services[key] = entry
                namespaces.insert(key.namespace)
                switch entry.kind {
                case .clusterIP(let addresses):
                    for address in addresses { reverse[address, default: []].append(ReverseTarget(service: key, label: nil)) }
                case .headless:
                    for endpoint in entry.endpoints {
                        reverse[endpoint.address, default: []].append(ReverseTarget(service: key, label: endpoint.label))
                    }
                case .externalName:
                    break
                }
            }
        }

        static func entry(service: Service, spec: ServiceSpec, name: DNSName, slices: [EndpointSlice]) -> ServiceEntry? {
            var ports: [String: UInt16] = [:]
            for port in spec.ports ?? [] {
                guard let key = portKey(name: port.name, protocol: port.protocol), let number = port.port.flatMap(UInt16.init(exactly:)) else { continue }
                ports[key] = number
            }
            var entry = ServiceEntry(kind: .headless, name: name, ports: ports, addresses: [], endpoints: [], hosts: [:])
            if spec.type == "ExternalName" {
                guard let external = spec.externalName, !external.isEmpty, let target = try? DNSName(external) else { return nil }
                entry.kind = .externalName(target.lowercased())
                return entry
            }
            if spec.clusterIP == "None" {
                let publishNotReady = spec.publishNotReadyAddresses == true
                    || service.metadata?.annotations?[ClusterDNSRecords.tolerateUnreadyAnnotation] == "true"
                addEndpoints(slices, publishNotReady: publishNotReady, servicePorts: ports, to: &entry)
                return entry
            }
            let texts = spec.clusterIPs?.isEmpty == false ? spec.clusterIPs ?? [] : [spec.clusterIP].compactMap { $0 }
            let addresses = texts.compactMap { IPAddress($0) }
            guard !addresses.isEmpty else { return nil }
            entry.kind = .clusterIP(addresses)
            return entry
        }

        static func addEndpoints(_ slices: [EndpointSlice], publishNotReady: Bool, servicePorts: [String: UInt16], to entry: inout ServiceEntry) {
            var seen: Set<HostAddress> = []
            var seenAddresses: Set<IPAddress> = []
            for slice in slices {
                var ports: [String: UInt16] = [:]
                for port in slice.ports ?? [] {
                    guard let key = portKey(name: port.name, protocol: port.protocol), let number = port.port.flatMap(UInt16.init(exactly:)) else { continue }
                    ports[key] = number
                }
                if ports.isEmpty { ports = servicePorts }
                for endpoint in slice.endpoints ?? [] {
                    guard publishNotReady || endpoint.conditions?.ready != false else { continue }
                    let hostname = endpoint.hostname.flatMap { $0.isEmpty || $0.utf8.count > DNSName.maxLabelLength ? nil : $0.lowercased() }
                    for text in endpoint.addresses ?? [] {
                        guard let address = IPAddress(text) else { continue }
                        let lowered = hostname ?? address.dashed
                        guard seen.insert(HostAddress(label: lowered, address: address)).inserted else { continue }
                        if seenAddresses.insert(address).inserted { entry.addresses.append(address) }
                        entry.endpoints.append(HeadlessEndpoint(label: lowered, address: address, ports: ports))
                        entry.hosts[lowered, default: []].append(address)
                    }
                }
            }
        }

        /// `_<name>._<protocol>` lowercased; nil for an unnamed port (no SRV record).
        static func portKey(name: String?, protocol: String?) -> String? {
            guard let name, !name.isEmpty else { return nil }
            return "_\(name.lowercased())._\((`protocol` ?? "TCP").lowercased())"
        }

        struct HostAddress: Hashable {
            var label: String
            var address: IPAddress
        }
    }
}
