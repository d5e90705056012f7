/// The id of a proxied pod, node or Service: `[scheme:]name[:port]` (Kubernetes'
/// `SplitSchemeNamePort`), e.g. `web`, `web:8080`, `web:http`, `https:web:443`.
struct SchemeNamePort: Equatable {
    var scheme: String
    var name: String
    /// The port as written, a number or a port's name; empty when the id names none.
    var port: String

    /// Parses `id`; nil for an empty name or a scheme other than http/https.
    init?(_ id: String) {
        let parts = id.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var scheme = "", name = "", port = ""
        switch parts.count {
        case 1: name = parts[0]
        case 2: (name, port) = (parts[0], parts[1])
        case 3: (scheme, name, port) = (parts[0], parts[1], parts[2])
        default: return nil
        }
        guard !name.isEmpty, ["", "http", "https"].contains(scheme) else { return nil }
        self.scheme = scheme.isEmpty ? "http" : scheme
        self.name = name
        self.port = port
    }

    init(scheme: String = "http", name: String, port: String = "") {
        self.scheme = scheme
        self.name = name
        self.port = port
    }

    /// The port as a number, when it is one (1–65535).
    var portNumber: Int? {
        Int(port).flatMap { (1...65535).contains($0) ? $0 : nil }
    }
}
