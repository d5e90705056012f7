/// The id of a proxied pod, node or Service: `[scheme:]name[:port]` (Kubernetes'
/// `SplitSchemeNamePort`), e.g. `web`, `web:8080`, `https:web:443`.
struct SchemeNamePort: Equatable {
    var scheme: String
    var name: String
    var port: Int?

    /// Parses `id`; nil for an empty name, a scheme other than http/https, or a port outside 1–65535.
    init?(_ id: String) {
        let parts = id.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var scheme = "http", name = "", port = ""
        switch parts.count {
        case 1: name = parts[0]
        case 2: (name, port) = (parts[0], parts[1])
        case 3: (scheme, name, port) = (parts[0].isEmpty ? "http" : parts[0], parts[1], parts[2])
        default: return nil
        }
        guard !name.isEmpty, scheme == "http" || scheme == "https" else { return nil }
        if !port.isEmpty {
            guard let n = Int(port), (1...65535).contains(n) else { return nil }
            self.port = n
        }
        self.scheme = scheme
        self.name = name
    }
}
