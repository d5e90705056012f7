import Foundation

/// What a registry's `WWW-Authenticate` header asks for.
///
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"`
/// means: get a token from `realm` for `service` and `scope`, then send `Authorization: Bearer <token>`.
/// `Basic realm="…"` means: send the user name and password.
public enum RegistryAuthChallenge: Sendable, Hashable {
    /// Token authentication (the Docker registry token protocol).
    case bearer(realm: String, service: String?, scope: String?)
    /// HTTP basic authentication.
    case basic(realm: String?)

    /// Parses a `WWW-Authenticate` value; nil when it names no scheme Orca speaks.
    public init?(header: String) {
        var scanner = Scanner(header)
        while let scheme = scanner.token() {
            let params = scanner.parameters()
            switch scheme.lowercased() {
            case "bearer":
                guard let realm = params["realm"], !realm.isEmpty else { break }
                self = .bearer(realm: realm, service: params["service"], scope: params["scope"])
                return
            case "basic":
                self = .basic(realm: params["realm"])
                return
            default:
                break
            }
        }
        return nil
    }

    /// A minimal RFC 7235 reader: `scheme param=value, param="quoted \"value\"", …`.
    private struct Scanner {
        var chars: [Character]
        var i = 0

        init(_ s: String) { chars = Array(s) }

        mutating func skip(_ set: Set<Character>) {
            while i < chars.count, set.contains(chars[i]) { i += 1 }
        }

        /// A run of token characters after optional whitespace and commas.
        mutating func token() -> String? {
            skip([" ", "\t", ","])
            let start = i
            while i < chars.count, !" \t,=\"".contains(chars[i]) { i += 1 }
            return i > start ? String(chars[start..<i]) : nil
        }

        /// The `key=value` pairs that follow a scheme, up to the next scheme or the end.
        mutating func parameters() -> [String: String] {
            var result: [String: String] = [:]
            while true {
                let save = i
                guard let key = token() else { break }
                skip([" ", "\t"])
                guard i < chars.count, chars[i] == "=" else {
                    i = save  // a bare token: the next challenge's scheme
                    break
                }
                i += 1
                skip([" ", "\t"])
                result[key.lowercased()] = value()
            }
            return result
        }

        mutating func value() -> String {
            guard i < chars.count, chars[i] == "\"" else { return token() ?? "" }
            i += 1
            var out = ""
            while i < chars.count, chars[i] != "\"" {
                if chars[i] == "\\", i + 1 < chars.count { i += 1 }
                out.append(chars[i])
                i += 1
            }
            i += 1
            return out
        }
    }
}
