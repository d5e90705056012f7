import OrcaAPI

/// Named quantities (`corev1.ResourceList`): a container's requests or limits, a LimitRange's
/// bounds, a quota's `hard` and `used`, with the arithmetic of kube's `quota` helpers.
///
/// Sums are exact in thousandths of a unit (in whole units beyond about 4.6 × 10¹⁵) and keep
/// the format of the first non-zero operand, as `resource.Quantity.Add` does: `512Mi + 512Mi`
/// is `1Gi`, `500m + 500m` is `1`.
public struct ResourceList: Sendable, Equatable {
    /// The quantities by resource name (`cpu`, `requests.memory`, `count/pods` …).
    public var quantities: [String: Quantity]

    /// A list of these quantities.
    public init(_ quantities: [String: Quantity] = [:]) { self.quantities = quantities }

    /// The valid quantities of a JSON object (strings or numbers); others are left out.
    public init(json: JSONValue?) {
        var quantities: [String: Quantity] = [:]
        for (name, value) in json?.objectValue ?? [:] {
            let text: String
            switch value {
            case .string(let s): text = s
            case .int(let i): text = String(i)
            case .double(let d): text = String(d)
            default: continue
            }
            let q = Quantity(text)
            if q.isValid { quantities[name] = q }
        }
        self.quantities = quantities
    }

    /// The quantity of one resource, if listed.
    public subscript(name: String) -> Quantity? {
        get { quantities[name] }
        set { quantities[name] = newValue }
    }

    /// The resource names listed.
    public var names: Set<String> { Set(quantities.keys) }
    /// Whether nothing is listed.
    public var isEmpty: Bool { quantities.isEmpty }

    /// As a JSON object of canonical strings.
    public var json: JSONValue { .object(quantities.mapValues { .string($0.string) }) }

    /// `key=value` pairs sorted by key and joined with commas (the quota admission's `prettyPrint`).
    public var prettyPrinted: String {
        quantities.keys.sorted().map { "\($0)=\(quantities[$0]!.string)" }.joined(separator: ",")
    }

    /// `quota.Add`: the sum of both, key by key; a key in one list only keeps its value.
    public func adding(_ other: ResourceList) -> ResourceList {
        var out = self
        for (name, q) in other.quantities { out.quantities[name] = out.quantities[name].map { Self.sum($0, q) } ?? q }
        return out
    }

    /// `quota.SubtractWithNonNegativeResult`: `self - other`, clamped at zero; a key only in
    /// `other` is zero.
    public func subtractingToZero(_ other: ResourceList) -> ResourceList {
        var out = ResourceList()
        for (name, q) in quantities {
            let difference = other.quantities[name].map { Self.difference(q, $0) } ?? q
            out.quantities[name] = difference.compare(to: Self.zero) > 0 ? difference : Self.zero
        }
        for name in other.quantities.keys where out.quantities[name] == nil { out.quantities[name] = Self.zero }
        return out
    }

    /// Raises each quantity to `other`'s where that one is larger (`maxResourceList`).
    public mutating func raise(to other: ResourceList) {
        for (name, q) in other.quantities where quantities[name].map({ q.compare(to: $0) > 0 }) ?? true {
            quantities[name] = q
        }
    }

    /// These quantities with `other`'s set over them.
    public func merging(_ other: ResourceList) -> ResourceList {
        ResourceList(quantities.merging(other.quantities) { _, new in new })
    }

    /// `quota.Mask`: only the given names.
    public func masked(to names: Set<String>) -> ResourceList {
        ResourceList(quantities.filter { names.contains($0.key) })
    }

    /// `quota.RemoveZeros`.
    public func removingZeros() -> ResourceList { ResourceList(quantities.filter { !$0.value.isZero }) }

    /// `quota.LessThanOrEqual` against `limits`: the names (sorted) whose quantity is above
    /// the limit; names without a limit are not compared.
    public func exceeding(_ limits: ResourceList) -> [String] {
        limits.quantities.compactMap { name, limit in
            quantities[name].map { $0.compare(to: limit) > 0 } == true ? name : nil
        }.sorted()
    }

    /// `quota.Equals`: the same names, with equal values (whatever their format).
    public func hasSameValues(as other: ResourceList) -> Bool {
        names == other.names && quantities.allSatisfy { other.quantities[$0.key]?.compare(to: $0.value) == 0 }
    }

    static let zero = Quantity("0")

    /// `a + b`, in the format of `a` (of `b` when `a` is zero).
    static func sum(_ a: Quantity, _ b: Quantity) -> Quantity {
        combine(a, b) { $0.addingReportingOverflow($1) }
    }

    /// `a - b`, in the format of `a` (of `b` when `a` is zero).
    static func difference(_ a: Quantity, _ b: Quantity) -> Quantity {
        combine(a, b) { $0.subtractingReportingOverflow($1) }
    }

    private static func combine(_ a: Quantity, _ b: Quantity,
                                _ op: (Int64, Int64) -> (partialValue: Int64, overflow: Bool)) -> Quantity {
        let format = (a.isZero ? b.format : a.format) ?? .decimalSI
        let milliLimit = UInt64(Int64.max / 2000)
        if a.value.magnitude <= milliLimit, b.value.magnitude <= milliLimit {
            return Quantity(milliValue: op(a.milliValue, b.milliValue).partialValue, format: format)
        }
        let (result, overflow) = op(a.value, b.value)
        return Quantity(value: overflow ? (a.value < 0 ? .min : .max) : result, format: format)
    }
}

extension ResourceList {
    /// What a pod asks (`resourcehelper.PodRequests`): its containers' requests summed, its
    /// restartable (sidecar) init containers' added, raised to what any other init container
    /// needs next to the sidecars started before it; plus `spec.overhead` when asked.
    public static func podRequests(_ pod: JSONValue, overhead: Bool) -> ResourceList {
        var total = podTotal(pod, "requests")
        if overhead { total = total.adding(ResourceList(json: pod[path: ["spec", "overhead"]])) }
        return total
    }

    /// The pod's limits (`resourcehelper.PodLimits`), summed as its requests are; the
    /// overhead, when asked, is added only to the limits that are set.
    public static func podLimits(_ pod: JSONValue, overhead: Bool) -> ResourceList {
        var total = podTotal(pod, "limits")
        if overhead {
            for (name, q) in ResourceList(json: pod[path: ["spec", "overhead"]]).quantities {
                if let value = total[name] { total[name] = sum(value, q) }
            }
        }
        return total
    }

    /// A container's `resources.requests` or `resources.limits`.
    static func container(_ container: JSONValue, _ kind: String) -> ResourceList {
        ResourceList(json: container[path: ["resources", kind]])
    }

    private static func podTotal(_ pod: JSONValue, _ kind: String) -> ResourceList {
        var total = ResourceList()
        for c in pod[path: ["spec", "containers"]]?.arrayValue ?? [] { total = total.adding(container(c, kind)) }
        var sidecars = ResourceList()
        var initPeak = ResourceList()
        for c in pod[path: ["spec", "initContainers"]]?.arrayValue ?? [] {
            var whileRunning = container(c, kind)
            if c["restartPolicy"]?.stringValue == "Always" {
                total = total.adding(whileRunning)
                sidecars = sidecars.adding(whileRunning)
                whileRunning = sidecars
            } else {
                whileRunning = whileRunning.adding(sidecars)
            }
            initPeak.raise(to: whileRunning)
        }
        total.raise(to: initPeak)
        return total
    }
}
