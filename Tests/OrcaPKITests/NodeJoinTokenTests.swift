import Foundation
import OrcaPKI
import Testing

@Suite struct NodeJoinTokenTests {
    @Test func roundTripsAndMatchesItsCA() throws {
        let token = NodeJoinToken.generate(caPEM: "ca-one")
        let parsed = try NodeJoinToken(parsing: token.description + "\n")
        #expect(parsed == token)
        #expect(parsed.matches(caPEM: "ca-one"))
        #expect(!parsed.matches(caPEM: "ca-two"))
        #expect(parsed.bootstrapToken.count == 23)
        #expect(parsed.description.hasPrefix("K10"))
    }

    @Test(arguments: [
        ("abc.def", "must look like"),
        ("K10abcd::abcdef.0123456789abcdef", "not a hex SHA-256"),
        ("K10" + String(repeating: "a", count: 64) + "::abcdef.0123", "bootstrap token"),
        ("K10" + String(repeating: "a", count: 64) + "::ABCDEF.0123456789abcdef", "bootstrap token"),
    ])
    func rejectsMalformedTokens(text: String, message: String) {
        #expect { try NodeJoinToken(parsing: text) } throws: { "\($0)".contains(message) }
    }

    @Test func loadOrCreateKeepsTheTokenOfTheSameCA() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("orca-token-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try NodeJoinToken.loadOrCreate(path: dir + "/node-token", caPEM: "ca")
        #expect(try NodeJoinToken.loadOrCreate(path: dir + "/node-token", caPEM: "ca") == first)
        let other = try NodeJoinToken.loadOrCreate(path: dir + "/node-token", caPEM: "another ca")
        #expect(other != first)
        #expect(other.matches(caPEM: "another ca"))
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/node-token")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
