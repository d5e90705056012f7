import Crypto
import Foundation
import OrcaCore

/// The join token `orca server` writes to `<data-dir>/node-token` and `orca agent --token`
/// takes: `K10<sha256 of the CA certificate PEM, hex>::<id>.<secret>`, as k3s's full token.
///
/// The hash lets the agent verify the server it reaches before trusting it (no trust on first
/// use); `<id>.<secret>` is a Kubernetes bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`), with
/// which the agent authenticates as `system:bootstrap:<id>` until it has its own certificate.
public struct NodeJoinToken: Sendable, Equatable, CustomStringConvertible {
    /// The hex SHA-256 of the cluster CA's PEM bytes.
    public var caHash: String
    public var id: String
    public var secret: String

    public init(caHash: String, id: String, secret: String) {
        self.caHash = caHash
        self.id = id
        self.secret = secret
    }

    /// A new token for the CA `caPEM` with a random bootstrap token.
    public static func generate(caPEM: String) -> NodeJoinToken {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var rng = SystemRandomNumberGenerator()
        func random(_ n: Int) -> String { String((0..<n).map { _ in alphabet.randomElement(using: &rng)! }) }
        return NodeJoinToken(caHash: hash(caPEM: caPEM), id: random(6), secret: random(16))
    }

    /// Parses a token; the error says which part is wrong.
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.hasPrefix("K10"), let sep = t.range(of: "::") else {
            throw PKIError("the join token must look like K10<ca-hash>::<id>.<secret> (the content of the server's <data-dir>/node-token)")
        }
        let hash = String(t[t.index(t.startIndex, offsetBy: 3)..<sep.lowerBound])
        guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else { throw PKIError("the join token's CA hash is not a hex SHA-256") }
        let bootstrap = t[sep.upperBound...].split(separator: ".", omittingEmptySubsequences: false)
        guard bootstrap.count == 2, Self.isBootstrapPart(bootstrap[0], count: 6), Self.isBootstrapPart(bootstrap[1], count: 16) else {
            throw PKIError("the join token's credential must be a bootstrap token <6 chars [a-z0-9]>.<16 chars [a-z0-9]>")
        }
        self.init(caHash: hash.lowercased(), id: String(bootstrap[0]), secret: String(bootstrap[1]))
    }

    static func isBootstrapPart(_ s: Substring, count: Int) -> Bool {
        s.count == count && s.allSatisfy { ($0.isLetter && $0.isLowercase && $0.isASCII) || ($0.isNumber && $0.isASCII) }
    }

    /// `<id>.<secret>`: the bearer token.
    public var bootstrapToken: String { "\(id).\(secret)" }

    public var description: String { "K10\(caHash)::\(bootstrapToken)" }

    /// The hex SHA-256 of a CA's PEM text.
    public static func hash(caPEM: String) -> String {
        SHA256.hash(data: Data(caPEM.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `caPEM` is the CA this token names.
    public func matches(caPEM: String) -> Bool { Self.hash(caPEM: caPEM) == caHash }

    /// Reads `path`, or creates it (0600) with a new token for `caPEM`. A token written for
    /// another CA is replaced.
    public static func loadOrCreate(path: String, caPEM: String) throws -> NodeJoinToken {
        if let text = try? String(contentsOfFile: path, encoding: .utf8), let token = try? NodeJoinToken(parsing: text),
           token.matches(caPEM: caPEM) {
            return token
        }
        let token = generate(caPEM: caPEM)
        try PrivateFiles.write(Array((token.description + "\n").utf8), to: path, mode: 0o600)
        return token
    }
}
