import OrcaClient
import OrcaCore

/// Amounts of the resources the scheduler accounts for (the framework's `Resource`): cpu in
/// millicores, memory and ephemeral storage in bytes, a pod count, and the scalar resources
/// (extended resources such as `example.com/gpu`, `hugepages-*`, `attachable-volumes-*`) in
/// their base unit. Other names (`storage`, …) are not counted. Sums saturate, so absurd
/// stored quantities make a node full instead of trapping.
public struct Resource: Sendable, Hashable {
    /// CPU in thousandths of a core.
    public var milliCPU: Int64 = 0
    /// Memory in bytes.
    public var memory: Int64 = 0
    /// Ephemeral storage in bytes.
    public var ephemeralStorage: Int64 = 0
    /// The `pods` count (a node's pod capacity).
    public var allowedPodNumber: Int64 = 0
    /// Scalar resources by name, in base units.
    public var scalar: [String: Int64] = [:]

    /// Explicit amounts.
    public init(milliCPU: Int64 = 0, memory: Int64 = 0, ephemeralStorage: Int64 = 0, allowedPodNumber: Int64 = 0,
                scalar: [String: Int64] = [:]) {
        self.milliCPU = milliCPU
        self.memory = memory
        self.ephemeralStorage = ephemeralStorage
        self.allowedPodNumber = allowedPodNumber
        self.scalar = scalar
    }

    /// A resource list (a node's allocatable, a container's requests) as amounts
    /// (`Resource.Add`); names the scheduler does not account for are left out.
    public init(_ list: [String: Quantity]) {
        for (name, quantity) in list { add(name, quantity) }
    }

    /// Adds one named quantity (cpu in milli-units, everything else in base units).
    mutating func add(_ name: String, _ quantity: Quantity) {
        guard quantity.isValid else { return }
        switch name {
        case "cpu": milliCPU = milliCPU.addingSaturating(quantity.milliValue)
        case "memory": memory = memory.addingSaturating(quantity.value)
        case "ephemeral-storage": ephemeralStorage = ephemeralStorage.addingSaturating(quantity.value)
        case "pods": allowedPodNumber = allowedPodNumber.addingSaturating(quantity.value)
        default:
            if Resource.isScalarResourceName(name) { scalar[name, default: 0] = scalar[name, default: 0].addingSaturating(quantity.value) }
        }
    }

    /// Adds every amount of `other`.
    mutating func add(_ other: Resource) {
        milliCPU = milliCPU.addingSaturating(other.milliCPU)
        memory = memory.addingSaturating(other.memory)
        ephemeralStorage = ephemeralStorage.addingSaturating(other.ephemeralStorage)
        allowedPodNumber = allowedPodNumber.addingSaturating(other.allowedPodNumber)
        for (name, value) in other.scalar { scalar[name, default: 0] = scalar[name, default: 0].addingSaturating(value) }
    }

    /// Subtracts every amount of `other` (a pod leaving a node).
    mutating func subtract(_ other: Resource) {
        milliCPU = milliCPU.subtractingSaturating(other.milliCPU)
        memory = memory.subtractingSaturating(other.memory)
        ephemeralStorage = ephemeralStorage.subtractingSaturating(other.ephemeralStorage)
        allowedPodNumber = allowedPodNumber.subtractingSaturating(other.allowedPodNumber)
        for (name, value) in other.scalar { scalar[name, default: 0] = scalar[name, default: 0].subtractingSaturating(value) }
    }

    /// Raises every amount to at least `other`'s (how init containers count).
    mutating func raise(to other: Resource) {
        milliCPU = max(milliCPU, other.milliCPU)
        memory = max(memory, other.memory)
        ephemeralStorage = max(ephemeralStorage, other.ephemeralStorage)
        allowedPodNumber = max(allowedPodNumber, other.allowedPodNumber)
        for (name, value) in other.scalar { scalar[name] = max(scalar[name] ?? value, value) }
    }

    /// The amount of one resource by its Kubernetes name (cpu in milli-units), 0 if absent.
    public subscript(name: String) -> Int64 {
        switch name {
        case "cpu": milliCPU
        case "memory": memory
        case "ephemeral-storage": ephemeralStorage
        case "pods": allowedPodNumber
        default: scalar[name] ?? 0
        }
    }

    // MARK: resource names (v1helper)

    /// Names the scheduler counts as scalar resources (`schedutil.IsScalarResourceName`).
    static func isScalarResourceName(_ name: String) -> Bool {
        isExtendedResourceName(name) || name.hasPrefix("hugepages-") || name.contains("kubernetes.io/")
            || name.hasPrefix("attachable-volumes-")
    }

    /// A resource outside the `kubernetes.io` domain, such as `example.com/gpu`
    /// (`v1helper.IsExtendedResourceName`).
    static func isExtendedResourceName(_ name: String) -> Bool {
        let native = !name.contains("/") || name.contains("kubernetes.io/")
        if native || name.hasPrefix("requests.") { return false }
        return isQualifiedName("requests." + name)
    }

    /// `validation.IsQualifiedName`: an optional DNS-subdomain prefix and `/`, then a name of
    /// at most 63 alphanumerics, `-`, `_` or `.`, starting and ending alphanumeric.
    static func isQualifiedName(_ value: String) -> Bool {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let name = parts.last else { return false }
        if parts.count == 2 {
            let prefix = parts[0]
            guard !prefix.isEmpty, prefix.count <= 253,
                  prefix.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "." }),
                  prefix.first.map({ $0.isLetter || $0.isNumber }) == true,
                  prefix.last.map({ $0.isLetter || $0.isNumber }) == true else { return false }
        }
        guard !name.isEmpty, name.count <= 63,
              name.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "_" || $0 == "." }),
              name.first.map({ $0.isASCII && ($0.isLetter || $0.isNumber) }) == true,
              name.last.map({ $0.isASCII && ($0.isLetter || $0.isNumber) }) == true else { return false }
        return true
    }
}
