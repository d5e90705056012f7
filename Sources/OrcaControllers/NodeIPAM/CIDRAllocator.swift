import Foundation

/// Hands out the node-sized subnets of an IPv4 cluster CIDR, lowest free first (Kubernetes'
/// `cidrset.CidrSet` with the range allocator's per-node bookkeeping), as a sans-IO value:
/// `allocate(for:)` is idempotent per node, so a node seen again before its allocation is
/// visible gets the same subnet; `occupy` marks a subnet a node already holds; `release`
/// frees a deleted node's.
public struct CIDRAllocator: Sendable, Equatable {
    /// The cluster CIDR's network address.
    public let base: UInt32
    /// The cluster CIDR's prefix length.
    public let prefixLength: Int
    /// The prefix length of each node's subnet.
    public let nodePrefixLength: Int
    private var used: [Bool]
    private var assigned: [String: Int] = [:]

    /// Splits `clusterCIDR` (e.g. `10.42.0.0/16`) into subnets of `nodePrefixLength` bits
    /// (e.g. 24); nil when it is not an IPv4 CIDR or the node subnets would not fit in it.
    public init?(clusterCIDR: String, nodePrefixLength: Int = 24) {
        guard let (address, length) = Self.parse(clusterCIDR), nodePrefixLength >= length, nodePrefixLength <= 32,
              nodePrefixLength - length <= 24 else { return nil }
        base = address & Self.mask(length)
        prefixLength = length
        self.nodePrefixLength = nodePrefixLength
        used = Array(repeating: false, count: 1 << (nodePrefixLength - length))
    }

    /// How many node subnets the cluster CIDR has.
    public var capacity: Int { used.count }

    /// How many are taken.
    public var allocatedCount: Int { used.lazy.filter { $0 }.count }

    /// The subnet of `node`: the one it was given or occupies, else the lowest free one
    /// (nil when none is free).
    public mutating func allocate(for node: String) -> String? {
        if let index = assigned[node] { return subnet(index) }
        guard let index = used.firstIndex(of: false) else { return nil }
        used[index] = true
        assigned[node] = index
        return subnet(index)
    }

    /// Marks `cidr` as held by `node` (a node that already has its podCIDR); a subnet the node
    /// was given before and no longer holds is freed. Returns false when `cidr` is not a node
    /// subnet of the cluster CIDR (it is then left alone).
    @discardableResult
    public mutating func occupy(_ cidr: String, by node: String) -> Bool {
        guard let index = index(of: cidr) else { return false }
        let previous = assigned[node]
        assigned[node] = index
        used[index] = true
        if let previous, previous != index, !assigned.values.contains(previous) { used[previous] = false }
        return true
    }

    /// Frees the subnet of a deleted node; returns it.
    @discardableResult
    public mutating func release(node: String) -> String? {
        guard let index = assigned.removeValue(forKey: node) else { return nil }
        if !assigned.values.contains(index) { used[index] = false }
        return subnet(index)
    }

    /// The subnet `node` holds here, if any.
    public func subnet(of node: String) -> String? { assigned[node].map(subnet) }

    // MARK: addresses

    func subnet(_ index: Int) -> String {
        let address = base + UInt32(index) << UInt32(32 - nodePrefixLength)
        return "\(Self.format(address))/\(nodePrefixLength)"
    }

    /// The index of the node subnet that `cidr` is, or lies in (a longer prefix); nil when it
    /// is outside the cluster CIDR or wider than a node subnet.
    func index(of cidr: String) -> Int? {
        guard let (address, length) = Self.parse(cidr), length >= nodePrefixLength,
              address & Self.mask(prefixLength) == base else { return nil }
        return Int((address - base) >> UInt32(32 - nodePrefixLength))
    }

    static func mask(_ length: Int) -> UInt32 {
        length == 0 ? 0 : UInt32.max << UInt32(32 - length)
    }

    static func parse(_ cidr: String) -> (UInt32, Int)? {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length) else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var address: UInt32 = 0
        for octet in octets {
            guard let value = UInt8(octet) else { return nil }
            address = address << 8 | UInt32(value)
        }
        return (address, length)
    }

    static func format(_ address: UInt32) -> String {
        [24, 16, 8, 0].map { String((address >> UInt32($0)) & 0xff) }.joined(separator: ".")
    }
}
