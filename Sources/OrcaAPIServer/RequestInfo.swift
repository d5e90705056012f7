import OrcaAPI

/// What a resource URL names: `/api/v1/namespaces/ns/pods/name/status` and the like.
public struct RequestInfo: Sendable, Equatable {
    public var group: String
    public var version: String
    public var namespace: String?
    public var resource: String
    public var name: String?
    public var subresource: String?

    /// Parses a resource path; nil if the path is not a resource path (discovery, health …).
    public init?(path: String) {
        var segs = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let first = segs.first else { return nil }
        if first == "api" {
            guard segs.count >= 3 else { return nil }
            group = ""
            version = segs[1]
            segs.removeFirst(2)
        } else if first == "apis" {
            guard segs.count >= 4 else { return nil }
            group = segs[1]
            version = segs[2]
            segs.removeFirst(3)
        } else {
            return nil
        }
        namespace = nil
        name = nil
        subresource = nil
        if segs[0] == "namespaces", segs.count >= 3, !(segs.count == 3 && (segs[2] == "status" || segs[2] == "finalize")) {
            namespace = segs[1]
            segs.removeFirst(2)
        }
        resource = segs[0]
        if segs.count > 1 { name = segs[1] }
        if segs.count > 2 { subresource = segs[2] }
        if segs.count > 3 { return nil }
    }
}
