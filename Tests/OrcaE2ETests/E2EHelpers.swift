import Foundation
import Synchronization
import Testing

/// Raw HTTPS requests to a test server with curl and the admin client certificate.
struct RawAPI {
    let server: String
    let tls: [String]

    init(_ s: OrcaServerProcess) throws {
        server = try s.k("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}")
        tls = ["--cacert", s.dataDir + "/tls/ca.crt", "--cert", s.dataDir + "/tls/admin.crt", "--key", s.dataDir + "/tls/admin.key"]
    }

    struct Reply {
        var code: Int
        var text: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    }

    /// One request; `body` is sent as is with `contentType`.
    func call(_ method: String, _ path: String, body: String? = nil, contentType: String = "application/json",
              extra: [String] = [], timeout: TimeInterval = 60) throws -> Reply {
        var args = ["-sS", "-X", method, "-w", "\n%{http_code}"] + tls + extra
        if let body { args += ["-H", "Content-Type: \(contentType)", "--data-binary", "@-"] }
        args.append(server + path)
        let r = try OrcaServerProcess.run("/usr/bin/curl", args, stdin: body, timeout: timeout)
        guard r.status == 0, let nl = r.out.lastIndex(of: "\n") else { throw E2EError("curl \(method) \(path) failed (\(r.status)): \(r.err)") }
        return Reply(code: Int(r.out[r.out.index(after: nl)...]) ?? 0, text: String(r.out[..<nl]))
    }

    func get(_ path: String) throws -> Reply { try call("GET", path) }
    func post(_ path: String, _ body: String, contentType: String = "application/json") throws -> Reply {
        try call("POST", path, body: body, contentType: contentType)
    }

    /// The lines of a watch that ends by itself (`timeoutSeconds`), parsed as JSON events.
    func watch(_ path: String) throws -> [[String: Any]] {
        let r = try call("GET", path, timeout: 60)
        #expect(r.code == 200, "watch \(path): \(r.code) \(r.text)")
        return r.text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }
}

extension [String: Any] {
    /// A nested value by keys: `obj[path: "metadata", "name"]`.
    subscript(path keys: String...) -> Any? {
        var cur: Any? = self
        for k in keys { cur = (cur as? [String: Any])?[k] }
        return cur
    }
    func string(_ keys: String...) -> String? {
        var cur: Any? = self
        for k in keys { cur = (cur as? [String: Any])?[k] }
        return cur as? String
    }
    var items: [[String: Any]] { self["items"] as? [[String: Any]] ?? [] }
    var names: [String] { items.compactMap { $0.string("metadata", "name") } }
}

/// A background process (e.g. `kubectl get -w`) whose output goes to a file that is polled.
///
/// `@unchecked Sendable`: only constants, Foundation's `Process` and `Pipe` (thread-safe for
/// the calls made, not marked Sendable).
final class BackgroundProcess: @unchecked Sendable {
    let process = Process()
    let outputPath: String
    /// The process's standard input, open until `closeInput()` or `stop()`.
    let input = Pipe()

    init(_ path: String, _ args: [String], env: [String: String]) throws {
        outputPath = NSTemporaryDirectory() + "orca-e2e-bg-\(UUID().uuidString.prefix(8)).out"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let out = FileHandle(forWritingAtPath: outputPath)!
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        process.standardOutput = out
        process.standardError = out
        process.standardInput = input
        try process.run()
    }

    /// Writes `text` to the process's standard input.
    func send(_ text: String) { input.fileHandleForWriting.write(Data(text.utf8)) }

    func closeInput() { try? input.fileHandleForWriting.close() }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Waits (with a liveness deadline) until the output satisfies `condition`.
    func waitForOutput(_ what: String, timeout: TimeInterval = 60, _ condition: (String) -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(output) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw E2EError("timed out waiting for \(what); output so far:\n\(output)")
    }

    /// Waits (with a liveness deadline) for the process to exit; returns its status.
    func waitForExit(timeout: TimeInterval = 60) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { throw E2EError("process did not exit; output so far:\n\(output)") }
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        closeInput()
        try? FileManager.default.removeItem(atPath: outputPath)
    }
}

/// Pod CIDRs for the servers of one test run: `10.250.<n>.0/24`, a different `n` for each
/// server (servers run side by side, and two pod bridges with one subnet would take each
/// other's routes), skipping any this machine already has an address or route in.
enum TestPodCIDR {
    private static let next = Mutex(Int.random(in: 0..<254))

    /// The next free pod CIDR.
    static func allocate() -> String {
        let used = ((try? SystemCommand.run(SystemCommand.ip, ["-4", "-o", "addr"]).out) ?? "")
            + ((try? SystemCommand.run(SystemCommand.ip, ["-4", "route", "show", "table", "all"]).out) ?? "")
        return next.withLock { next in
            for _ in 0..<254 {
                let n = next % 254 + 1
                next += 1
                if !used.contains("10.250.\(n).") { return "10.250.\(n).0/24" }
            }
            return "10.250.\(next % 254 + 1).0/24"
        }
    }
}
