import Foundation
import OrcaCore
import Testing
@testable import OrcaAgent

/// httpGet probes and hooks over HTTPS, against a real TLS server on loopback (`openssl s_server`
/// with a self-signed certificate the probe does not verify, as the kubelet does not).
@Suite(.serialized) struct HTTPGetActionTests {
    static func run(_ path: String, _ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    @Test func httpsProbesSucceedAgainstSelfSignedServersAndFailWithoutOne() async throws {
        let dir = NSTemporaryDirectory() + "orca-https-probe-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try Self.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pod",
                                                  "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"]) == 0)
        let port = try LoopbackPort.free()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        server.arguments = ["s_server", "-quiet", "-www", "-accept", "127.0.0.1:\(port)", "-cert", dir + "/cert.pem", "-key", dir + "/key.pem"]
        server.standardInput = FileHandle.nullDevice
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        let pid = server.processIdentifier
        defer { kill(pid, SIGKILL) }

        let action = HTTPGetAction(scheme: "HTTPS", host: "127.0.0.1", port: port, path: "/", headers: [("X-Probe", "1")])
        var result = (success: false, message: "not run")
        for _ in 0..<30 where !result.success {
            result = await action.run(deadline: Date().addingTimeInterval(2))
            if !result.success { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(result.success, "\(result.message)")

        kill(pid, SIGKILL)
        try await Task.sleep(for: .milliseconds(200))
        let refused = await action.run(deadline: Date().addingTimeInterval(2))
        #expect(!refused.success)
        #expect(refused.message.hasPrefix("Get \"https://127.0.0.1:\(port)/\""), "\(refused.message)")

        let ftp = await HTTPGetAction(scheme: "FTP", host: "127.0.0.1", port: port, path: "/", headers: []).run(deadline: Date().addingTimeInterval(1))
        #expect(!ftp.success)
    }
}
