import Foundation

/// How Orca reaches registries: which speak plain HTTP, and which mirrors to try first.
///
/// Registries default to HTTPS, but for loopback ones (`localhost`, `127.0.0.0/8`, `[::1]`), which
/// default to plain HTTP as Docker treats them. `docker.io` is served at `registry-1.docker.io`. A mirror is
/// tried before the registry itself, in order; when a mirror fails or lacks the content, the
/// next endpoint is tried.
public struct RegistryConfiguration: Sendable, Hashable {
    /// The settings of one registry, keyed by its domain as image names spell it (`docker.io`,
    /// `quay.io`, `127.0.0.1:5000`).
    public struct Registry: Sendable, Hashable {
        /// Plain HTTP instead of HTTPS (e.g. a loopback test registry).
        public var insecure: Bool
        /// Endpoint base URLs (`https://mirror.example.com`, `http://127.0.0.1:5001`) tried first.
        public var mirrors: [String]

        public init(insecure: Bool = false, mirrors: [String] = []) {
            self.insecure = insecure
            self.mirrors = mirrors
        }
    }

    /// One base URL to send `/v2/…` requests to.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// `https://registry-1.docker.io`, without a trailing slash.
        public var baseURL: String
        /// Whether this is a mirror (a failure there falls through to the next endpoint).
        public var isMirror: Bool

        public init(baseURL: String, isMirror: Bool) {
            self.baseURL = baseURL
            self.isMirror = isMirror
        }

        /// The `host[:port]` of the base URL, the key tokens are cached under.
        public var host: String {
            guard let url = URLComponents(string: baseURL), let host = url.host else { return baseURL }
            return url.port.map { "\(host):\($0)" } ?? host
        }

        public var description: String { baseURL }
    }

    /// Settings per registry domain; registries not listed use HTTPS and no mirror.
    public var registries: [String: Registry]

    public init(registries: [String: Registry] = [:]) {
        self.registries = registries
    }

    /// A configuration where each of `domains` is reached over plain HTTP.
    public static func insecure(_ domains: String...) -> RegistryConfiguration {
        RegistryConfiguration(registries: Dictionary(uniqueKeysWithValues: domains.map { ($0, Registry(insecure: true)) }))
    }

    /// The host that serves the registry API for `domain` (`docker.io` → `registry-1.docker.io`).
    public static func apiHost(for domain: String) -> String {
        domain == "docker.io" || domain == "index.docker.io" ? "registry-1.docker.io" : domain
    }

    /// The endpoints for `domain`: its mirrors in order, then the registry itself.
    public func endpoints(for domain: String) -> [Endpoint] {
        let settings = registries[domain] ?? Registry(insecure: Self.isLoopback(domain))
        let mirrors = settings.mirrors.map { url in
            Endpoint(baseURL: url.hasSuffix("/") ? String(url.dropLast()) : url, isMirror: true)
        }
        let scheme = settings.insecure ? "http" : "https"
        return mirrors + [Endpoint(baseURL: "\(scheme)://\(Self.apiHost(for: domain))", isMirror: false)]
    }

    /// Whether `domain` (`host[:port]`) names this machine's loopback interface.
    public static func isLoopback(_ domain: String) -> Bool {
        var host = Substring(domain)
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") { return host[host.index(after: host.startIndex)..<end] == "::1" }
        if let colon = host.firstIndex(of: ":") { host = host[..<colon] }
        return host == "localhost" || host.hasPrefix("127.")
    }
}
