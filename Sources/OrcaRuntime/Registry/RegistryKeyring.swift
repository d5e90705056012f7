import Foundation
import OrcaCore

/// Credentials by registry host, e.g. from a pod's `imagePullSecrets`.
///
/// Parses Kubernetes `kubernetes.io/dockerconfigjson` secrets (`{"auths":{…}}`) and legacy
/// `kubernetes.io/dockercfg` ones (the map without the wrapper). Keys may be `host[:port]` or URLs
/// such as `https://index.docker.io/v1/`; they are matched by host, and `docker.io`,
/// `index.docker.io` and `registry-1.docker.io` are one registry.
public struct RegistryKeyring: Sendable, Hashable {
    /// Credentials by normalised host (`docker.io`, `quay.io`, `127.0.0.1:5000`).
    public private(set) var entries: [String: RegistryCredentials]

    /// An empty keyring (anonymous pulls only).
    public init() { entries = [:] }

    /// A keyring with `credentials` for each listed registry host (or URL).
    public init(_ credentials: [String: RegistryCredentials]) {
        entries = [:]
        for (key, value) in credentials { entries[Self.normalizedHost(key)] = value }
    }

    /// Parses the `.dockerconfigjson` key of a `kubernetes.io/dockerconfigjson` secret.
    public init(dockerConfigJSON data: Data) throws {
        struct Wrapper: Decodable { var auths: [String: Entry]? }
        let wrapper: Wrapper
        do { wrapper = try JSONDecoder().decode(Wrapper.self, from: data) } catch {
            throw OrcaError(.invalid, "not a docker config JSON document", cause: error)
        }
        self.init(entries: wrapper.auths ?? [:])
    }

    /// Parses the `.dockercfg` key of a legacy `kubernetes.io/dockercfg` secret.
    public init(dockerCfg data: Data) throws {
        let auths: [String: Entry]
        do { auths = try JSONDecoder().decode([String: Entry].self, from: data) } catch {
            throw OrcaError(.invalid, "not a dockercfg document", cause: error)
        }
        self.init(entries: auths)
    }

    private init(entries auths: [String: Entry]) {
        entries = [:]
        // Sorted, so a duplicate host resolves the same way every time.
        for key in auths.keys.sorted() {
            guard let entry = auths[key], let credentials = entry.credentials else { continue }
            let host = Self.normalizedHost(key)
            if entries[host] == nil { entries[host] = credentials }
        }
    }

    /// The credentials for the registry `domain` (as in an image name), if any.
    public func credentials(for domain: String) -> RegistryCredentials? {
        entries[Self.normalizedHost(domain)]
    }

    /// This keyring with `other`'s entries added where this one has none (earlier secrets win).
    public func merging(_ other: RegistryKeyring) -> RegistryKeyring {
        var merged = self
        merged.entries.merge(other.entries) { mine, _ in mine }
        return merged
    }

    /// `https://index.docker.io/v1/` → `docker.io`; `Quay.io/` → `quay.io`; ports are kept.
    static func normalizedHost(_ key: String) -> String {
        var s = Substring(key.trimmingCharacters(in: .whitespaces))
        if let scheme = s.range(of: "://") { s = s[scheme.upperBound...] }
        if let slash = s.firstIndex(of: "/") { s = s[..<slash] }
        let host = s.lowercased()
        switch host {
        case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com": return "docker.io"
        default: return host
        }
    }

    /// One entry of the `auths` map.
    struct Entry: Decodable {
        var username: String?
        var password: String?
        var auth: String?

        var credentials: RegistryCredentials? {
            if let username, !username.isEmpty { return RegistryCredentials(username: username, password: password ?? "") }
            if let auth, !auth.isEmpty { return RegistryCredentials(auth: auth) }
            return nil
        }
    }
}
