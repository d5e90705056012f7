/// A request to a `proxy` subresource: `pods/proxy`, `services/proxy` or `nodes/proxy`, at
/// `/api/v1/[namespaces/<ns>/]<resource>/<id>/proxy[/<path>]`, where the id is
/// `[scheme:]name[:port]`.
struct ProxyTarget: Equatable {
    enum Resource: String {
        case pods, services, nodes
    }

    var resource: Resource
    /// The namespace of a pod or Service; nil for a node.
    var namespace: String?
    /// The id as written (`https:web:443`): the name RBAC sees, as kube-apiserver's RequestInfo
    /// takes it.
    var id: String
    /// The path after `proxy`, from `/`, its trailing slash kept (a directory stays one).
    var path: String

    /// The id's scheme, name and port; nil when it is not `[scheme:]name[:port]` (400).
    var parsedID: SchemeNamePort? { SchemeNamePort(id) }

    init(resource: Resource, namespace: String?, id: String, path: String) {
        self.resource = resource
        self.namespace = namespace
        self.id = id
        self.path = path
    }

    /// The proxy request of a request path, or nil when it names none.
    init?(path: String) {
        let segs = path.split(separator: "/").map(String.init)
        guard segs.count >= 5, segs[0] == "api", segs[1] == "v1" else { return nil }
        let rest: ArraySlice<String>
        if segs[2] == "nodes", segs[4] == "proxy" {
            (resource, namespace, id, rest) = (.nodes, nil, segs[3], segs.dropFirst(5))
        } else if segs.count >= 7, segs[2] == "namespaces", segs[6] == "proxy",
                  let resource = Resource(rawValue: segs[4]), resource != .nodes {
            (self.resource, namespace, id, rest) = (resource, segs[3], segs[5], segs.dropFirst(7))
        } else {
            return nil
        }
        // Cleaned as Go's `path.Join` cleans it: no `.`, and `..` never above the root.
        var cleaned: [String] = []
        for segment in rest {
            if segment == ".." { _ = cleaned.popLast() } else if segment != "." { cleaned.append(segment) }
        }
        self.path = "/" + cleaned.joined(separator: "/") + (!cleaned.isEmpty && path.hasSuffix("/") ? "/" : "")
    }
}
