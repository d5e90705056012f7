/// Names of nftables objects (tables, chains, sets) made from Kubernetes names.
///
/// nft accepts identifiers of the form `[A-Za-z_.][A-Za-z0-9_./-]*`. Namespaces, service names
/// and port names are DNS labels (`[a-z0-9-]`), so they are copied in readably, separated by `/`
/// (which Kubernetes names cannot contain); anything else is replaced by `_`. Like kube-proxy,
/// every per-service name is `<prefix><HASH>-<readable>`: the hash (8 base32 characters of a
/// 64-bit FNV-1a of the readable text) keeps names unique when the readable part is cut to bound
/// the length, and tells apart names that differ in one digit. The hash is stable across runs
/// and machines, so the same snapshot always gives the same script.
enum NFTName {
    /// The longest name made (nft allows 255 bytes; shorter keeps listings readable).
    static let maximumLength = 128

    /// `<prefix><HASH>-<readable>`, at most `maximumLength` characters (the readable part is
    /// cut and ends in `...` when too long).
    static func hashed(prefix: String, _ readable: String) -> String {
        let hash = base32(fnv1a64(readable), count: 8)
        var tail = sanitized(readable)
        let room = maximumLength - prefix.count - hash.count - 1
        if tail.count > room { tail = String(tail.prefix(max(0, room - 3))) + "..." }
        return "\(prefix)\(hash)-\(tail)"
    }

    /// `text` with every character nft does not allow in an identifier replaced by `_`.
    static func sanitized(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { allowed($0) ? $0 : "_" }))
    }

    /// A valid identifier for a table: sanitized, starting with a letter or `_`, bounded; an
    /// empty name becomes `orca-proxy`.
    static func identifier(_ text: String) -> String {
        var name = sanitized(text)
        if name.isEmpty { return "orca-proxy" }
        if let first = name.unicodeScalars.first, !isLetter(first), first != "_" { name = "_" + name }
        return String(name.prefix(maximumLength))
    }

    static func allowed(_ c: Unicode.Scalar) -> Bool {
        isLetter(c) || ("0"..."9").contains(c) || c == "_" || c == "." || c == "/" || c == "-"
    }

    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c)
    }

    /// 64-bit FNV-1a of the UTF-8 bytes (stable, unlike `Hasher`).
    static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// The first `count` RFC 4648 base32 characters (`A-Z2-7`) of `value`, most significant first.
    static func base32(_ value: UInt64, count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var out = ""
        for i in 0..<min(count, 12) {
            let shift = 64 - 5 * (i + 1)
            let digit = shift >= 0 ? (value >> UInt64(shift)) & 31 : (value << UInt64(-shift)) & 31
            out.append(alphabet[Int(digit)])
        }
        return out
    }
}
