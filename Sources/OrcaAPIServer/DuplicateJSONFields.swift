import OrcaAPI

/// Finds the keys that appear twice in one JSON object of a request body, as kube's strict
/// decoder (sigs.k8s.io/json) reports them: `spec.replicas`, `spec.containers[0].name`.
/// A JSON decoder keeps only the last value; `fieldValidation` decides whether that is an
/// error (`Strict`), a warning (`Warn`) or nothing (`Ignore`). The bytes are well-formed JSON
/// (they decoded already); anything else ends the scan quietly.
enum DuplicateJSONFields {
    static func paths(in bytes: [UInt8]) -> [String] {
        var scanner = Scanner(bytes: bytes)
        scanner.value(path: "")
        return scanner.duplicates
    }

    struct Scanner {
        let bytes: [UInt8]
        var i = 0
        var duplicates: [String] = []

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 32 || bytes[i] == 10 || bytes[i] == 13 || bytes[i] == 9 { i += 1 }
        }

        /// One value at `path`.
        mutating func value(path: String) {
            skipSpace()
            guard i < bytes.count else { return }
            switch bytes[i] {
            case UInt8(ascii: "{"): object(path: path)
            case UInt8(ascii: "["): array(path: path)
            case UInt8(ascii: "\""): _ = string()
            default:
                while i < bytes.count, !",}] \n\r\t".utf8.contains(bytes[i]) { i += 1 }
            }
        }

        mutating func object(path: String) {
            i += 1
            var seen: Set<String> = []
            while true {
                skipSpace()
                guard i < bytes.count else { return }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard bytes[i] == UInt8(ascii: "\""), let key = string() else { i = bytes.count; return }
                let child = path.isEmpty ? key : "\(path).\(key)"
                if !seen.insert(key).inserted, !duplicates.contains(child) { duplicates.append(child) }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { i = bytes.count; return }
                i += 1
                let before = i
                value(path: child)
                // Not JSON after all: stop rather than loop.
                if i == before { i = bytes.count; return }
            }
        }

        mutating func array(path: String) {
            i += 1
            var index = 0
            while true {
                skipSpace()
                guard i < bytes.count else { return }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return }
                if bytes[i] == UInt8(ascii: ",") { i += 1; index += 1; continue }
                let before = i
                value(path: "\(path)[\(index)]")
                // Not JSON after all: stop rather than loop.
                if i == before { i = bytes.count; return }
            }
        }

        /// A string token, unescaped (nil when malformed).
        mutating func string() -> String? {
            let start = i
            i += 1
            var escaped = false
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                if escaped { escaped = false; continue }
                if b == UInt8(ascii: "\\") { escaped = true; continue }
                if b == UInt8(ascii: "\"") {
                    // Unescape through the JSON decoder (escapes are rare in keys).
                    let token = Array(bytes[start..<i])
                    if !token.contains(UInt8(ascii: "\\")) { return String(decoding: token.dropFirst().dropLast(), as: UTF8.self) }
                    return (try? JSONValue.parse(token))?.stringValue
                }
            }
            return nil
        }
    }
}
