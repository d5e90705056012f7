import OrcaCore

/// An image reference normalised the way Kubernetes and Docker do it.
///
/// `busybox` → `docker.io/library/busybox:latest`, `x/y:t` → `docker.io/x/y:t`,
/// `host:port/x:t` stays on its registry, and a `@sha256:` digest is kept (with no `:latest`
/// added when only a digest is given). `index.docker.io` is spelled `docker.io`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// The registry host (and port): `docker.io`, `quay.io`, `localhost:5000`.
    public var domain: String
    /// The repository path on that registry: `library/busybox`.
    public var path: String
    /// The tag, if any (`latest` is filled in when neither tag nor digest is given).
    public var tag: String?
    /// The manifest digest, if the reference pins one.
    public var digest: ContentDigest?

    /// The default registry.
    public static let defaultDomain = "docker.io"

    /// Parses and normalises `reference`; throws `invalidImageName` for malformed input.
    public init(parsing reference: String) throws {
        func invalid(_ why: String) -> OrcaError {
            OrcaError(.invalidImageName, "invalid image name \"\(reference)\": \(why)")
        }
        guard !reference.isEmpty else { throw invalid("empty") }
        guard reference.utf8.count <= 4096, !reference.contains(where: { $0.isWhitespace }) else {
            throw invalid("contains whitespace or is too long")
        }
        var rest = Substring(reference)
        if let at = rest.firstIndex(of: "@") {
            do { digest = try ContentDigest(String(rest[rest.index(after: at)...])) } catch {
                throw invalid("bad digest")
            }
            rest = rest[..<at]
        }
        // A tag is the part after the last ':' that comes after the last '/'.
        let lastSlash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let t = rest[rest.index(after: colon)...]
            guard Self.isValidTag(t) else { throw invalid("bad tag \"\(t)\"") }
            tag = String(t)
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, Self.looksLikeDomain(components[0]) {
            domain = String(components.removeFirst())
            guard Self.isValidDomain(domain) else { throw invalid("bad registry \"\(domain)\"") }
        } else {
            domain = Self.defaultDomain
        }
        if domain == "index.docker.io" { domain = Self.defaultDomain }
        guard !components.isEmpty, components.allSatisfy(Self.isValidPathComponent) else {
            throw invalid("repository must be lowercase letters, digits and separators")
        }
        if domain == Self.defaultDomain && components.count == 1 { components.insert("library", at: 0) }
        path = components.joined(separator: "/")
        guard domain.utf8.count + 1 + path.utf8.count <= 255 else { throw invalid("repository name too long") }
        if tag == nil && digest == nil { tag = "latest" }
    }

    /// `domain/path` without tag or digest: `docker.io/library/busybox`.
    public var repository: String { "\(domain)/\(path)" }

    /// The full normalised name: `docker.io/library/busybox:latest`, `…/busybox@sha256:…`,
    /// or `…/busybox:1.35@sha256:…`.
    public var description: String {
        var s = repository
        if let tag { s += ":\(tag)" }
        if let digest { s += "@\(digest)" }
        return s
    }

    /// Normalises `reference` (see the type's documentation).
    public static func normalize(_ reference: String) throws -> String {
        try ImageReference(parsing: reference).description
    }

    /// Docker's rule: the first component names a registry if it has a `.` or `:`, or is `localhost`.
    static func looksLikeDomain(_ s: Substring) -> Bool {
        s.contains(".") || s.contains(":") || s == "localhost"
    }

    static func isValidDomain(_ s: String) -> Bool {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let host = parts.first, !host.isEmpty else { return false }
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.utf8.first, let last = label.utf8.last else { return false }
            return isAlnum(first, upper: true) && isAlnum(last, upper: true)
                && label.utf8.allSatisfy { isAlnum($0, upper: true) || $0 == UInt8(ascii: "-") }
        }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidPathComponent(_ s: Substring) -> Bool {
        let bytes = Array(s.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        var i = 0
        while i < bytes.count {
            if isAlnum(bytes[i]) { i += 1; continue }
            // A separator run: '.', '_', '__' or one or more '-'.
            var j = i
            while j < bytes.count, !isAlnum(bytes[j]) { j += 1 }
            let sep = bytes[i..<j]
            let ok = sep.elementsEqual([UInt8(ascii: ".")]) || sep.elementsEqual([UInt8(ascii: "_")])
                || sep.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")])
                || sep.allSatisfy { $0 == UInt8(ascii: "-") }
            guard ok else { return false }
            i = j
        }
        return true
    }

    /// `[\w][\w.-]{0,127}`
    static func isValidTag(_ s: Substring) -> Bool {
        guard let first = s.utf8.first, s.utf8.count <= 128 else { return false }
        func word(_ c: UInt8) -> Bool { isAlnum(c, upper: true) || c == UInt8(ascii: "_") }
        return word(first) && s.utf8.allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlnum(_ c: UInt8, upper: Bool = false) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A) || (upper && c >= 0x41 && c <= 0x5A)
    }
}
