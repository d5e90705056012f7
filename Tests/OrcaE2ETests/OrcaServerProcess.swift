import Foundation
import Synchronization
import Testing

/// A real `orca server` on a temporary data dir and a free port, driven with the real
/// kubectl as a user would. Stopped (SIGTERM, then SIGKILL) and its data dir removed by `stop()`.
///
/// `@unchecked Sendable`: only constants and Foundation's `Process` (thread-safe for the calls
/// made, not marked Sendable).
final class OrcaServerProcess: @unchecked Sendable {
    let dataDir: String
    let process = Process()
    let logPath: String
    var kubeconfig: String { dataDir + "/kubeconfig.yaml" }

    /// The `orca` binary built beside the test bundle.
    static var binary: String {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("orca").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug/orca"
    }

    init(extraArguments: [String] = ["--disable-agent"], dataDir: String? = nil) throws {
        self.dataDir = dataDir ?? NSTemporaryDirectory() + "orca-e2e-\(UUID().uuidString.prefix(8))"
        self.logPath = self.dataDir + ".log"
        try FileManager.default.createDirectory(atPath: self.dataDir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["server", "--data-dir", self.dataDir, "--https-port", "0", "--bind-address", "127.0.0.1"] + extraArguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
        do { try waitReady() } catch {
            // A server that never came up leaves nothing behind either.
            stop()
            throw error
        }
    }

    func waitReady() throws {
        for _ in 0..<300 {
            if FileManager.default.fileExists(atPath: kubeconfig),
               let r = try? kubectl(["get", "--raw", "/readyz"]), r.status == 0 { return }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw E2EError("orca server did not become ready:\n\(log)")
    }

    /// Runs kubectl against this server; returns exit status and output.
    @discardableResult
    func kubectl(_ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) throws -> (status: Int32, out: String, err: String) {
        try Self.run("/usr/bin/kubectl", args, env: ["KUBECONFIG": kubeconfig], stdin: stdin, timeout: timeout)
    }

    /// kubectl that must succeed; returns stdout.
    func k(_ args: String..., stdin: String? = nil) throws -> String {
        let r = try kubectl(args, stdin: stdin)
        guard r.status == 0 else { throw E2EError("kubectl \(args.joined(separator: " ")) failed (\(r.status)): \(r.err)\(r.out)") }
        return r.out
    }

    static func run(_ path: String, _ args: [String], env: [String: String] = [:], stdin: String? = nil,
                    timeout: TimeInterval = 60) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        p.standardInput = inPipe
        try p.run()
        if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? inPipe.fileHandleForWriting.close()
        let outData = Mutex(Data()), errData = Mutex(Data())
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            let data = outPipe.fileHandleForReading.readDataToEndOfFile()
            outData.withLock { $0 = data }
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            let data = errPipe.fileHandleForReading.readDataToEndOfFile()
            errData.withLock { $0 = data }
            group.leave()
        }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if p.isRunning { p.terminate(); Thread.sleep(forTimeInterval: 0.2); if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        group.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: outData.withLock { $0 }, as: UTF8.self),
                String(decoding: errData.withLock { $0 }, as: UTF8.self))
    }

    /// Stops the server gracefully (SIGTERM; SIGKILL after 10 s).
    func stop(removeData: Bool = true) {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        }
        if removeData {
            try? FileManager.default.removeItem(atPath: dataDir)
            try? FileManager.default.removeItem(atPath: logPath)
        }
    }

    /// Kills the server with SIGKILL (no cleanup by the server).
    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    /// Polls `condition` until it holds or `timeout` passes (not a timing assertion: a deadline for liveness).
    func eventually(_ what: String, timeout: TimeInterval = 60, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: (any Error)?
        while Date() < deadline {
            do { if try condition() { return } } catch { lastError = error }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw E2EError("timed out waiting for \(what)\(lastError.map { ": \($0)" } ?? "")")
    }
}

struct E2EError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
