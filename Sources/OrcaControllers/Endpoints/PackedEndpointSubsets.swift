import Foundation
import OrcaClient

/// Endpoints subsets in their packed, canonical form (`endpoints.RepackSubsets` and
/// `SortSubsets`): addresses gathered per port, then the ports that reach exactly the same
/// addresses (with the same readiness) share one subset. An address not ready on a port
/// counts as not ready there even if also listed ready. Addresses are ordered by IP and
/// target UID, ports by name, number and protocol, subsets by their addresses — so two
/// Endpoints with the same meaning compare equal however they were written.
struct PackedEndpointSubsets: Sendable {
    /// An address's identity: its IP and the UID of its target.
    struct AddressKey: Hashable, Comparable, Sendable {
        var ip: String
        var uid: String

        static func < (a: AddressKey, b: AddressKey) -> Bool { (a.ip, a.uid) < (b.ip, b.uid) }
    }

    /// One address's readiness on one port.
    struct Membership: Hashable, Comparable, Sendable {
        var address: AddressKey
        var ready: Bool

        static func < (a: Membership, b: Membership) -> Bool {
            a.address != b.address ? a.address < b.address : (!a.ready && b.ready)
        }
    }

    /// The first version of each address seen.
    private var addresses: [AddressKey: EndpointAddress] = [:]
    /// Port (nil: a subset without ports) → address → ready.
    private var byPort: [EndpointPort?: [AddressKey: Bool]] = [:]

    init() {}

    /// Packs existing subsets (to compare them with wanted ones).
    init(_ subsets: [EndpointSubset]?) {
        for subset in subsets ?? [] {
            let ports: [EndpointPort?] = (subset.ports ?? []).isEmpty ? [nil] : (subset.ports ?? []).map { $0 }
            for port in ports {
                for a in subset.addresses ?? [] { add(a, ready: true, port: port) }
                for a in subset.notReadyAddresses ?? [] { add(a, ready: false, port: port) }
            }
        }
    }

    /// Adds `address` on `port` (nil for a headless Service without ports).
    mutating func add(_ address: EndpointAddress, ready: Bool, port: EndpointPort?) {
        let normalized = Self.normalize(address)
        let key = AddressKey(ip: normalized.ip ?? "", uid: normalized.targetRef?.uid ?? "")
        if addresses[key] == nil { addresses[key] = normalized }
        let port = port.map(Self.normalize)
        let wasReady = byPort[port]?[key]
        // Not ready trumps ready.
        if wasReady == nil || wasReady == true { byPort[port, default: [:]][key] = ready }
    }

    /// The packed subsets, in canonical order.
    var subsets: [EndpointSubset] {
        var portsByMembers: [[Membership]: [EndpointPort]] = [:]
        for (port, members) in byPort {
            let list = members.map { Membership(address: $0.key, ready: $0.value) }.sorted()
            if let port {
                portsByMembers[list, default: []].append(port)
            } else if portsByMembers[list] == nil {
                portsByMembers[list] = []
            }
        }
        let ordered = portsByMembers.keys.sorted { $0.lexicographicallyPrecedes($1) }
        return ordered.map { members in
            let ready = members.filter(\.ready).compactMap { addresses[$0.address] }
            let notReady = members.filter { !$0.ready }.compactMap { addresses[$0.address] }
            let ports = (portsByMembers[members] ?? []).sorted(by: Self.portOrder)
            return EndpointSubset(addresses: ready.isEmpty ? nil : ready, notReadyAddresses: notReady.isEmpty ? nil : notReady,
                                  ports: ports.isEmpty ? nil : ports)
        }
    }

    /// The number of addresses (ready and not) over all `subsets`.
    static func addressCount(_ subsets: [EndpointSubset]) -> Int {
        subsets.reduce(0) { $0 + ($1.addresses?.count ?? 0) + ($1.notReadyAddresses?.count ?? 0) }
    }

    /// Cuts `subsets` to at most `capacity` addresses (`truncateEndpoints`): ready addresses
    /// first, each subset keeping a share proportional to its size; subsets left empty are
    /// dropped. Returns whether anything was cut.
    static func truncate(_ subsets: [EndpointSubset], capacity: Int) -> (subsets: [EndpointSubset], truncated: Bool) {
        let totalReady = subsets.reduce(0) { $0 + ($1.addresses?.count ?? 0) }
        let totalNotReady = subsets.reduce(0) { $0 + ($1.notReadyAddresses?.count ?? 0) }
        guard totalReady + totalNotReady > capacity else { return (subsets, false) }
        let truncateReady = totalReady > capacity
        let budget = truncateReady ? capacity : capacity - totalReady
        let total = truncateReady ? totalReady : totalNotReady
        var remaining = budget
        var result: [EndpointSubset] = []
        for var subset in subsets {
            let inSubset = truncateReady ? (subset.addresses?.count ?? 0) : (subset.notReadyAddresses?.count ?? 0)
            let share = total == 0 ? 0 : Int((Double(inSubset) / Double(total) * Double(budget)).rounded(.up))
            let take = max(0, min(share, remaining))
            if truncateReady {
                subset.addresses = subset.addresses.map { Array($0.prefix(take)) }
                subset.notReadyAddresses = nil
                remaining -= subset.addresses?.count ?? 0
            } else {
                subset.notReadyAddresses = subset.notReadyAddresses.map { Array($0.prefix(take)) }
                remaining -= subset.notReadyAddresses?.count ?? 0
            }
            if subset.addresses?.isEmpty == true { subset.addresses = nil }
            if subset.notReadyAddresses?.isEmpty == true { subset.notReadyAddresses = nil }
            if subset.addresses != nil || subset.notReadyAddresses != nil { result.append(subset) }
        }
        return (result, true)
    }

    /// An address as it compares: empty strings as absent, no target resourceVersion.
    static func normalize(_ a: EndpointAddress) -> EndpointAddress {
        var a = a
        if a.hostname?.isEmpty == true { a.hostname = nil }
        if a.nodeName?.isEmpty == true { a.nodeName = nil }
        a.targetRef?.resourceVersion = nil
        return a
    }

    /// A port as it compares: `TCP` when no protocol, no empty name.
    static func normalize(_ p: EndpointPort) -> EndpointPort {
        var p = p
        if p.protocol == nil || p.protocol?.isEmpty == true { p.protocol = "TCP" }
        if p.name?.isEmpty == true { p.name = nil }
        if p.appProtocol?.isEmpty == true { p.appProtocol = nil }
        return p
    }

    static func portOrder(_ a: EndpointPort, _ b: EndpointPort) -> Bool {
        (a.name ?? "", a.port ?? 0, a.protocol ?? "") < (b.name ?? "", b.port ?? 0, b.protocol ?? "")
    }
}
