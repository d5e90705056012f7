import Foundation

/// Commands the multi-node harness runs as root: `ip`, `nsenter`, `runc`, `openssl`, `curl`.
enum SystemCommand {
    static let ip = "/sbin/ip"
    static let nsenter = "/usr/bin/nsenter"
    static let runc = "/usr/sbin/runc"

    /// Runs a command; returns status and output (never throws for a non-zero status).
    @discardableResult
    static func run(_ path: String, _ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) throws -> (status: Int32, out: String, err: String) {
        try OrcaServerProcess.run(path, args, stdin: stdin, timeout: timeout)
    }

    /// Runs a command that must succeed; returns its standard output.
    @discardableResult
    static func must(_ path: String, _ args: [String], timeout: TimeInterval = 60) throws -> String {
        let r = try OrcaServerProcess.run(path, args, timeout: timeout)
        guard r.status == 0 else {
            throw E2EError("\(path) \(args.joined(separator: " ")) failed (\(r.status)): \(r.err)\(r.out)")
        }
        return r.out
    }
}
