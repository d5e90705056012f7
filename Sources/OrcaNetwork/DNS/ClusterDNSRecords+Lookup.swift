extension ClusterDNSRecords {
    /// What a name in the zone holds for one query type.
    enum NameLookup {
        /// NXDOMAIN.
        case nonexistent
        /// A CNAME to the target.
        case alias(DNSName)
        /// The name exists; `answers` (empty for NODATA) belong to it.
        case node(answers: [DNSRecordData], additionals: [DNSResourceRecord])

        static let empty = NameLookup.node(answers: [], additionals: [])
    }

    /// At most this many in-zone CNAMEs are followed in one answer.
    static let maxAliasHops = 8

    func answerInZone(_ query: DNSMessage, question: DNSQuestion, relative: ArraySlice<String>) -> DNSMessage {
        guard question.type != .axfr, question.type.rawValue != 251 else {
            return DNSMessage.response(to: query, rcode: .refused, authoritative: true)
        }
        var response = DNSMessage.response(to: query, authoritative: true)
        var owner = question.name
        var lookup = lookup(Array(relative), type: question.type)
        var hops = 0
        while true {
            switch lookup {
            case .nonexistent:
                response.header.rcode = .nameError
                response.authorities = [soaRecord(owner: zone)]
                return response
            case .node(let answers, let additionals):
                response.answers += answers.map { DNSResourceRecord(name: owner, ttl: Self.ttl, data: $0) }
                response.additionals += additionals
                if answers.isEmpty { response.authorities = [soaRecord(owner: zone)] }
                return response
            case .alias(let target):
                response.answers.append(DNSResourceRecord(name: owner, ttl: Self.ttl, data: .cname(target)))
                // Out of the zone, the server resolves the target (it knows the upstreams).
                guard question.type != .cname, hops < Self.maxAliasHops, let relative = relativeLabels(target) else { return response }
                hops += 1
                owner = target
                lookup = self.lookup(relative, type: question.type)
            }
        }
    }

    /// `name`'s labels below the zone, lowercased; nil when it is not in the zone.
    func relativeLabels(_ name: DNSName) -> [String]? {
        let labels = name.lowercasedLabels
        guard labels.count >= zoneLabels.count, labels.suffix(zoneLabels.count).elementsEqual(zoneLabels) else { return nil }
        return Array(labels.dropLast(zoneLabels.count))
    }

    /// The records at the in-zone name with `relative` labels (leftmost first).
    func lookup(_ relative: [String], type: DNSRecordType) -> NameLookup {
        switch relative.count {
        case 0:
            var answers: [DNSRecordData] = []
            var additionals: [DNSResourceRecord] = []
            if Self.wants(type, .soa) { answers.append(.soa(soa)) }
            if Self.wants(type, .ns), let nameserver {
                answers.append(.ns(soa.primary))
                additionals.append(DNSResourceRecord(name: soa.primary, ttl: Self.ttl, data: .address(nameserver)))
            }
            return .node(answers: answers, additionals: additionals)
        case 1:
            switch relative[0] {
            case "dns-version":
                return .node(answers: Self.wants(type, .txt) ? [.text(Self.schemaVersion)] : [], additionals: [])
            case "svc", "pod":
                return .empty
            case "dns" where nameserver != nil:
                return .empty
            default:
                return .nonexistent
            }
        case 2:
            switch relative[1] {
            case "svc": return namespaces.contains(relative[0]) ? .empty : .nonexistent
            case "pod": return .empty
            case "dns" where relative[0] == "ns":
                guard let nameserver else { return .nonexistent }
                return .node(answers: Self.addresses([nameserver], type: type), additionals: [])
            default: return .nonexistent
            }
        case 3:
            switch relative[2] {
            case "svc":
                guard let entry = services[ServiceKey(namespace: relative[1], name: relative[0])], entry.exists else { return .nonexistent }
                switch entry.kind {
                case .clusterIP(let addresses): return .node(answers: Self.addresses(addresses, type: type), additionals: [])
                case .headless: return .node(answers: Self.addresses(entry.addresses, type: type), additionals: [])
                case .externalName(let target): return .alias(target)
                }
            case "pod":
                guard let address = IPAddress(dashed: relative[0]) else { return .nonexistent }
                return .node(answers: Self.addresses([address], type: type), additionals: [])
            default:
                return .nonexistent
            }
        case 4 where relative[3] == "svc":
            guard let entry = services[ServiceKey(namespace: relative[2], name: relative[1])], entry.exists else { return .nonexistent }
            if relative[0].hasPrefix("_") {
                // `_<proto>.<svc>…`: an empty non-terminal above the SRV names.
                return Self.srvKeys(entry).contains { $0.hasSuffix(".\(relative[0])") } ? .empty : .nonexistent
            }
            guard case .headless = entry.kind, let addresses = entry.hosts[relative[0]] else { return .nonexistent }
            return .node(answers: Self.addresses(addresses, type: type), additionals: [])
        case 5 where relative[4] == "svc":
            guard relative[0].hasPrefix("_"), relative[1].hasPrefix("_"),
                  let entry = services[ServiceKey(namespace: relative[3], name: relative[2])], entry.exists else { return .nonexistent }
            return srv(entry, key: "\(relative[0]).\(relative[1])", type: type)
        default:
            return .nonexistent
        }
    }

    /// `_<port>._<proto>.<svc>.<ns>.svc.<zone>`.
    func srv(_ entry: ServiceEntry, key: String, type: DNSRecordType) -> NameLookup {
        switch entry.kind {
        case .clusterIP(let addresses):
            guard let port = entry.ports[key] else { return .nonexistent }
            guard Self.wants(type, .srv) else { return .empty }
            let additionals = addresses.map { DNSResourceRecord(name: entry.name, ttl: Self.ttl, data: .address($0)) }
            return .node(answers: [.srv(.init(priority: 0, weight: 100, port: port, target: entry.name))], additionals: additionals)
        case .headless:
            var targets: [(label: String, port: UInt16)] = []
            var seen: Set<String> = []
            for endpoint in entry.endpoints {
                guard let port = endpoint.ports[key], seen.insert("\(endpoint.label):\(port)").inserted else { continue }
                targets.append((endpoint.label, port))
            }
            guard !targets.isEmpty else { return .nonexistent }
            guard Self.wants(type, .srv) else { return .empty }
            let weight = UInt16(max(1, 100 / targets.count))
            var answers: [DNSRecordData] = []
            var additionals: [DNSResourceRecord] = []
            var described: Set<String> = []
            for target in targets {
                guard let name = try? entry.name.prepending(target.label) else { continue }
                answers.append(.srv(.init(priority: 0, weight: weight, port: target.port, target: name)))
                if described.insert(target.label).inserted {
                    additionals += (entry.hosts[target.label] ?? []).map { DNSResourceRecord(name: name, ttl: Self.ttl, data: .address($0)) }
                }
            }
            return .node(answers: answers, additionals: additionals)
        case .externalName:
            return .nonexistent
        }
    }

    /// The `_<port>._<proto>` keys that have SRV records.
    static func srvKeys(_ entry: ServiceEntry) -> Set<String> {
        switch entry.kind {
        case .clusterIP: return Set(entry.ports.keys)
        case .headless: return Set(entry.endpoints.flatMap(\.ports.keys))
        case .externalName: return []
        }
    }

    /// PTR answers for `in-addr.arpa`/`ip6.arpa` names of known addresses or of `reverseNetworks`.
    func answerReverse(_ query: DNSMessage, question: DNSQuestion, labels: [String]) -> DNSMessage? {
        guard let address = Self.reverseAddress(labels) else { return nil }
        let network = reverseNetworks.first { address.isIn(network: $0.address, prefixLength: $0.prefixLength) }
        let targets = reverse[address]
        guard targets != nil || network != nil else { return nil }
        guard Self.isServedClass(question.class) else { return DNSMessage.response(to: query, rcode: .refused) }
        guard question.type != .axfr, question.type.rawValue != 251 else {
            return DNSMessage.response(to: query, rcode: .refused, authoritative: true)
        }
        var response = DNSMessage.response(to: query, authoritative: true)
        let soa = soaRecord(owner: Self.reverseZone(address, prefixLength: network?.prefixLength ?? 0))
        guard let targets else {
            response.header.rcode = .nameError
            response.authorities = [soa]
            return response
        }
        if Self.wants(question.type, .ptr) {
            for target in targets {
                guard let entry = services[target.service] else { continue }
                guard let name = target.label.map({ try? entry.name.prepending($0) }) ?? entry.name else { continue }
                response.answers.append(DNSResourceRecord(name: question.name, ttl: Self.ttl, data: .ptr(name)))
            }
        }
        if response.answers.isEmpty { response.authorities = [soa] }
        return response
    }

    /// The address of `d.c.b.a.in-addr.arpa` or of a 32-nibble `ip6.arpa` name.
    static func reverseAddress(_ labels: [String]) -> IPAddress? {
        if labels.count == 6, labels[4] == "in-addr", labels[5] == "arpa" {
            var value: UInt32 = 0
            for label in labels[0..<4].reversed() {
                guard let octet = IPAddress.parseIPv4("\(label).0.0.0".utf8).map({ $0 >> 24 }) else { return nil }
                value = value << 8 | octet
            }
            return .v4(value)
        }
        if labels.count == 34, labels[32] == "ip6", labels[33] == "arpa" {
            var value: UInt128 = 0
            for label in labels[0..<32].reversed() {
                guard label.utf8.count == 1, let nibble = UInt8(label, radix: 16) else { return nil }
                value = value << 4 | UInt128(nibble)
            }
            return .v6(value)
        }
        return nil
    }

    /// The reverse zone of the first `prefixLength` bits of `address`, whole octets (nibbles) only.
    static func reverseZone(_ address: IPAddress, prefixLength: Int) -> DNSName {
        let bytes = address.bytes
        var labels: [String]
        if address.isIPv4 {
            labels = bytes.prefix(prefixLength / 8).reversed().map { String($0) } + ["in-addr", "arpa"]
        } else {
            let nibbles = bytes.flatMap { [$0 >> 4, $0 & 0x0F] }
            labels = nibbles.prefix(prefixLength / 4).reversed().map { String($0, radix: 16) } + ["ip6", "arpa"]
        }
        return DNSName(validated: labels.map { Array($0.utf8) })
    }

    func soaRecord(owner: DNSName) -> DNSResourceRecord {
        DNSResourceRecord(name: owner, ttl: Self.ttl, data: .soa(soa))
    }

    /// `A` records of the IPv4 addresses and `AAAA` of the IPv6 ones that `type` asks for.
    static func addresses(_ addresses: [IPAddress], type: DNSRecordType) -> [DNSRecordData] {
        addresses.compactMap { address in
            Self.wants(type, address.isIPv4 ? .a : .aaaa) ? .address(address) : nil
        }
    }

    /// Whether a query of `type` is answered by records of `recordType`.
    static func wants(_ type: DNSRecordType, _ recordType: DNSRecordType) -> Bool {
        type == recordType || type == .any
    }
}
