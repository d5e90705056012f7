import OrcaAPI

/// The legacy discovery documents: `/api`, `/apis`, `/apis/<group>` and each group-version's resource list.
public struct Discovery: Sendable {
    /// The resources served (custom resources come and go).
    public let served: ServedResources
    public let serverAddress: String

    public init(served: ServedResources, serverAddress: String) {
        self.served = served
        self.serverAddress = serverAddress
    }

    /// Discovery of a fixed catalog.
    public init(catalog: ResourceCatalog, serverAddress: String) {
        self.init(served: ServedResources(builtIn: catalog), serverAddress: serverAddress)
    }

    /// Every resource served now.
    public var catalog: ResourceCatalog { served.catalog }

    /// `GET /api`
    public var coreVersions: JSONValue {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    func groupObject(_ group: String) -> JSONValue {
        let versions = Set(catalog.resources.filter { $0.group == group }.map(\.version))
            .sorted { Discovery.compareKubeAwareVersions($0, $1) > 0 }
        let gvs: [JSONValue] = versions.map { ["groupVersion": .string("\(group)/\($0)"), "version": .string($0)] }
        return ["name": .string(group), "versions": .array(gvs), "preferredVersion": gvs.first ?? .null]
    }

    /// `GET /apis`
    public var groupList: JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(catalog.groups.filter { !$0.isEmpty }.map(groupObject))]
    }

    /// `GET /apis/<group>`, or nil for an unknown group.
    public func group(_ name: String) -> JSONValue? {
        guard catalog.groups.contains(name), !name.isEmpty else { return nil }
        var g = groupObject(name)
        g["kind"] = "APIGroup"
        g["apiVersion"] = "v1"
        return g
    }

    /// `GET /api/v1` or `/apis/<group>/<version>`, or nil if unknown.
    public func resourceList(group: String, version: String) -> JSONValue? {
        let resources = catalog.resources(group: group, version: version)
        guard !resources.isEmpty else { return nil }
        var list: [JSONValue] = []
        for r in resources {
            var main: [String: JSONValue] = [
                "name": .string(r.resource), "singularName": .string(r.singular), "namespaced": .bool(r.namespaced),
                "kind": .string(r.kind), "verbs": .array(r.verbs.map(JSONValue.string)),
                "storageVersionHash": .string(Discovery.stableHash(r.groupResource)),
            ]
            if !r.shortNames.isEmpty { main["shortNames"] = .array(r.shortNames.map(JSONValue.string)) }
            if !r.categories.isEmpty { main["categories"] = .array(r.categories.map(JSONValue.string)) }
            if r.resource == "namespaces" || r.resource == "nodes" || r.resource == "persistentvolumes" {
                main["verbs"] = .array(["create", "delete", "get", "list", "patch", "update", "watch"])
            }
            list.append(.object(main))
            for sub in r.subresources {
                var s: [String: JSONValue] = ["name": .string("\(r.resource)/\(sub)"), "singularName": "", "namespaced": .bool(r.namespaced)]
                switch sub {
                case "status", "ephemeralcontainers":
                    s["kind"] = .string(r.kind); s["verbs"] = ["get", "patch", "update"]
                case "scale":
                    s["kind"] = "Scale"; s["group"] = "autoscaling"; s["version"] = "v1"; s["verbs"] = ["get", "patch", "update"]
                case "binding":
                    s["kind"] = "Binding"; s["verbs"] = ["create"]
                case "eviction":
                    s["kind"] = "Eviction"; s["group"] = "policy"; s["version"] = "v1"; s["verbs"] = ["create"]
                case "log":
                    s["kind"] = "Pod"; s["verbs"] = ["get"]
                case "finalize":
                    s["kind"] = "Namespace"; s["verbs"] = ["update"]
                case "exec":
                    s["kind"] = "PodExecOptions"; s["verbs"] = ["create", "get"]
                case "attach":
                    s["kind"] = "PodAttachOptions"; s["verbs"] = ["create", "get"]
                case "portforward":
                    s["kind"] = "PodPortForwardOptions"; s["verbs"] = ["create", "get"]
                case "proxy":
                    // PodProxyOptions, ServiceProxyOptions, NodeProxyOptions.
                    s["kind"] = .string(r.kind + "ProxyOptions"); s["verbs"] = ["create", "delete", "get", "patch", "update"]
                case "token":
                    s["kind"] = "TokenRequest"; s["group"] = "authentication.k8s.io"; s["version"] = "v1"; s["verbs"] = ["create"]
                case "approval":
                    s["kind"] = .string(r.kind); s["verbs"] = ["get", "patch", "update"]
                default:
                    s["kind"] = .string(r.kind); s["verbs"] = ["get"]
                }
                list.append(.object(s))
            }
        }
        if group == "", version == "v1" {
            list.append(["name": "bindings", "singularName": "binding", "namespaced": true, "kind": "Binding", "verbs": ["create"]])
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(list)]
    }

    /// A short hash that is the same in every process (unlike `hashValue`).
    static func stableHash(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 36)
    }
}
