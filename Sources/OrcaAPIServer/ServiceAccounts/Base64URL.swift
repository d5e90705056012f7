import Foundation

/// Unpadded base64url (RFC 4648 §5, Go's `base64.RawURLEncoding`): the encoding of every
/// part of a compact JWS and of a JWK's numbers.
enum Base64URL {
    /// Encodes `bytes` without padding.
    static func encode(_ bytes: some DataProtocol) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.last == "=" { text.removeLast() }
        return String(text.map { c -> Character in
            switch c {
            case "+": "-"
            case "/": "_"
            default: c
            }
        })
    }

    /// Decodes unpadded base64url, or nil when `text` is not exactly that (padding, `+`, `/`,
    /// white space and impossible lengths are refused, as `RawURLEncoding` refuses them).
    static func decode(_ text: some StringProtocol) -> Data? {
        var standard = ""
        standard.reserveCapacity(text.utf8.count + 3)
        for c in text.unicodeScalars {
            switch c {
            case "A"..."Z", "a"..."z", "0"..."9": standard.unicodeScalars.append(c)
            case "-": standard.append("+")
            case "_": standard.append("/")
            default: return nil
            }
        }
        switch standard.utf8.count % 4 {
        case 1: return nil
        case 2: standard += "=="
        case 3: standard += "="
        default: break
        }
        return Data(base64Encoded: standard)
    }
}
