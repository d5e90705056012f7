import Foundation
import OrcaCore

/// A real `docker-registry` on 127.0.0.1 and a free port (optionally behind htpasswd auth) for
/// end-to-end tests, fed with `skopeo copy`. `stop()` kills it and removes its directory.
///
/// `@unchecked Sendable`: only constants and Foundation's `Process` (thread-safe for the calls
/// made, not marked Sendable).
final class LoopbackRegistry: @unchecked Sendable {
    let directory: String
    let port: Int
    let process = Process()
    /// `user:password` when the registry requires them.
    let credentials: String?

    /// `127.0.0.1:<port>`, the registry part of image names pushed here.
    var host: String { "127.0.0.1:\(port)" }

    init(credentials: (user: String, password: String)? = nil) throws {
        directory = NSTemporaryDirectory() + "orca-e2e-registry-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/storage", withIntermediateDirectories: true)
        port = try LoopbackPort.free()
        var config = """
        version: 0.1
        log: {level: warn}
        storage:
          filesystem: {rootdirectory: \(directory)/storage}
        http: {addr: "127.0.0.1:\(port)"}
        """
        if let credentials {
            let hash = try OrcaServerProcess.run("/usr/bin/htpasswd", ["-Bbn", credentials.user, credentials.password])
            guard hash.status == 0 else { throw E2EError("htpasswd failed: \(hash.err)") }
            try Data(hash.out.utf8).write(to: URL(fileURLWithPath: directory + "/htpasswd"))
            config += "\nauth:\n  htpasswd: {realm: orca-e2e, path: \(directory)/htpasswd}\n"
            self.credentials = "\(credentials.user):\(credentials.password)"
        } else {
            self.credentials = nil
        }
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/config.yml"))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", directory + "/config.yml"]
        FileManager.default.createFile(atPath: directory + "/registry.log", contents: nil)
        let log = FileHandle(forWritingAtPath: directory + "/registry.log")!
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let probe = try OrcaServerProcess.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(host)/v2/"])
            if probe.out == "200" || probe.out == "401" { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw E2EError("docker-registry did not answer on \(host)")
    }

    /// Pushes the image `source` (a skopeo transport reference, e.g. `oci:/dir:tag`) as `name` (`test/app:v1`).
    func push(_ source: String, as name: String) throws {
        var args = ["copy", "--quiet", "--dest-tls-verify=false"]
        if let credentials { args += ["--dest-creds", credentials] }
        let r = try OrcaServerProcess.run("/usr/bin/skopeo", args + [source, "docker://\(host)/\(name)"], timeout: 120)
        guard r.status == 0 else { throw E2EError("skopeo copy \(source) failed: \(r.err)") }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
