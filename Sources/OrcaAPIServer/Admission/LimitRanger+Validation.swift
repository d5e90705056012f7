import Foundation
import OrcaAPI

extension LimitRanger {
    /// The bounds a pod breaks: each Container item against every container and init
    /// container, each Pod item against the pod's summed requests and limits (no overhead).
    static func podViolations(_ pod: JSONValue, items: [JSONValue]) -> [String] {
        var found: [String] = []
        for item in items {
            let type = item["type"]?.stringValue ?? ""
            let bounds = Bounds(item)
            switch type {
            case "Container":
                for kind in ["containers", "initContainers"] {
                    for c in pod[path: ["spec", kind]]?.arrayValue ?? [] {
                        found += bounds.violations(type, requests: .container(c, "requests"), limits: .container(c, "limits"))
                    }
                }
            case "Pod":
                found += bounds.violations(type, requests: .podRequests(pod, overhead: false),
                                           limits: .podLimits(pod, overhead: false))
            default:
                break
            }
        }
        return found
    }

    /// The bounds a claim breaks: `min` and `max` of PersistentVolumeClaim items against its
    /// requests (a claim's limits are not the user's).
    static func claimViolations(_ claim: JSONValue, items: [JSONValue]) -> [String] {
        let requests = ResourceList(json: claim[path: ["spec", "resources", "requests"]])
        var found: [String] = []
        for item in items where item["type"]?.stringValue == "PersistentVolumeClaim" {
            let bounds = Bounds(item)
            let type = "PersistentVolumeClaim"
            for name in bounds.min.names.sorted() {
                found += [Bounds.minimum(type, name, bounds.min[name]!, requests: requests, limits: ResourceList())].compactMap { $0 }
            }
            for name in bounds.max.names.sorted() {
                found += [Bounds.maximumRequest(type, name, bounds.max[name]!, requests: requests)].compactMap { $0 }
            }
        }
        return found
    }

    /// One LimitRangeItem's `min`, `max` and `maxLimitRequestRatio`, with kube's checks and words.
    struct Bounds {
        var min: ResourceList
        var max: ResourceList
        var ratio: ResourceList

        init(_ item: JSONValue) {
            min = ResourceList(json: item["min"])
            max = ResourceList(json: item["max"])
            ratio = ResourceList(json: item["maxLimitRequestRatio"])
        }

        /// Every bound broken by these requests and limits, minimums, maximums then ratios,
        /// each by resource name.
        func violations(_ type: String, requests: ResourceList, limits: ResourceList) -> [String] {
            var found: [String?] = []
            for name in min.names.sorted() { found.append(Self.minimum(type, name, min[name]!, requests: requests, limits: limits)) }
            for name in max.names.sorted() { found.append(Self.maximum(type, name, max[name]!, requests: requests, limits: limits)) }
            for name in ratio.names.sorted() { found.append(Self.ratio(type, name, ratio[name]!, requests: requests, limits: limits)) }
            return found.compactMap { $0 }
        }

        /// kube's `minConstraint`.
        static func minimum(_ type: String, _ name: String, _ enforced: Quantity, requests: ResourceList, limits: ResourceList) -> String? {
            let (request, limit, bound) = comparable(requests[name], limits[name], enforced)
            guard let req = requests[name] else { return "minimum \(name) usage per \(type) is \(enforced).  No request is specified" }
            if request < bound { return "minimum \(name) usage per \(type) is \(enforced), but request is \(req)" }
            if let lim = limits[name], limit < bound { return "minimum \(name) usage per \(type) is \(enforced), but limit is \(lim)" }
            return nil
        }

        /// kube's `maxConstraint`.
        static func maximum(_ type: String, _ name: String, _ enforced: Quantity, requests: ResourceList, limits: ResourceList) -> String? {
            let (request, limit, bound) = comparable(requests[name], limits[name], enforced)
            guard let lim = limits[name] else { return "maximum \(name) usage per \(type) is \(enforced).  No limit is specified" }
            if limit > bound { return "maximum \(name) usage per \(type) is \(enforced), but limit is \(lim)" }
            if let req = requests[name], request > bound { return "maximum \(name) usage per \(type) is \(enforced), but request is \(req)" }
            return nil
        }

        /// kube's `maxRequestConstraint` (claims: the request is the only figure).
        static func maximumRequest(_ type: String, _ name: String, _ enforced: Quantity, requests: ResourceList) -> String? {
            let (request, _, bound) = comparable(requests[name], nil, enforced)
            guard let req = requests[name] else { return "maximum \(name) usage per \(type) is \(enforced).  No request is specified" }
            if request > bound { return "maximum \(name) usage per \(type) is \(enforced), but request is \(req)" }
            return nil
        }

        /// kube's `limitRequestRatioConstraint`.
        static func ratio(_ type: String, _ name: String, _ enforced: Quantity, requests: ResourceList, limits: ResourceList) -> String? {
            let (request, limit, _) = comparable(requests[name], limits[name], enforced)
            let prefix = "\(name) max limit to request ratio per \(type) is \(enforced)"
            if requests[name] == nil || request == 0 { return prefix + ", but no request is specified or request is 0" }
            if limits[name] == nil || limit == 0 { return prefix + ", but no limit is specified or limit is 0" }
            var observed = Double(limit) / Double(request)
            let shown = observed
            var bound = Double(enforced.value)
            if enforced.value <= maxMilliValue {
                observed *= 1000
                bound = Double(enforced.milliValue)
            }
            return observed > bound ? prefix + ", but provided ratio is \(String(format: "%f", shown))" : nil
        }

        /// `resource.MaxMilliValue`: the largest value whose thousandths fit in an Int64.
        static let maxMilliValue = Int64.max / 1000

        /// kube's `requestLimitEnforcedValues`: the three in thousandths when all fit, else in
        /// units (a missing quantity is zero).
        static func comparable(_ request: Quantity?, _ limit: Quantity?, _ enforced: Quantity) -> (Int64, Int64, Int64) {
            let r = request ?? ResourceList.zero, l = limit ?? ResourceList.zero
            if r.value <= maxMilliValue, l.value <= maxMilliValue, enforced.value <= maxMilliValue {
                return (r.milliValue, l.milliValue, enforced.milliValue)
            }
            return (r.value, l.value, enforced.value)
        }
    }
}
