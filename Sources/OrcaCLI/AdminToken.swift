import Foundation
import OrcaCore

/// The admin bearer token (`<data-dir>/tls/admin.token`, mode 0600): generated once,
/// accepted by the API server as `Authorization: Bearer <token>` for the admin user.
enum AdminToken {
    static func loadOrCreate(path: String) throws -> String {
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !token.isEmpty { return token }
        }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        try PrivateFiles.write(Array((token + "\n").utf8), to: path, mode: 0o600)
        return token
    }
}
