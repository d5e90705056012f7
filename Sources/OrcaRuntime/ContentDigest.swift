import Crypto
import Foundation
import OrcaCore

/// A content digest in OCI form, `sha256:<64 lowercase hex>`: the address of a blob.
public struct ContentDigest: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The 64 hex digits.
    public let hex: String

    /// Parses `sha256:<hex>`; throws for any other algorithm or a malformed value.
    public init(_ string: String) throws {
        guard string.hasPrefix("sha256:"), Self.isHex64(string.dropFirst(7)) else {
            throw OrcaError(.invalid, "invalid digest \"\(string)\": want sha256:<64 hex digits>")
        }
        hex = String(string.dropFirst(7))
    }

    /// Wraps 64 hex digits already known to be valid.
    init(hex: String) { self.hex = hex }

    /// `sha256:<hex>`.
    public var description: String { "sha256:\(hex)" }

    /// The digest a finished SHA-256 hash names.
    init(_ digest: SHA256.Digest) {
        self.init(hex: digest.map { String(format: "%02x", $0) }.joined())
    }

    /// The SHA-256 digest of `bytes`.
    public static func sha256(of bytes: some DataProtocol) -> ContentDigest {
        ContentDigest(SHA256.hash(data: bytes))
    }

    /// The SHA-256 digest of the file at `path`, read in 1 MiB chunks; also returns its size.
    public static func sha256(ofFileAt path: String) throws -> (digest: ContentDigest, size: Int64) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw OrcaError(.notFound, "cannot open \(path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (ContentDigest(hasher.finalize()), size)
    }

    /// Whether `s` is exactly 64 lowercase hex digits.
    static func isHex64(_ s: Substring) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    public static func < (a: ContentDigest, b: ContentDigest) -> Bool { a.hex < b.hex }

    public init(from decoder: any Decoder) throws {
        try self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
