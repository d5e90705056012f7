import Foundation
import Testing

/// A webhook a test serves over HTTPS on loopback: Python's `http.server` and `ssl`, with a
/// certificate for 127.0.0.1 that `openssl` makes for the test. The test gives the Python
/// function `answer(review)`, which turns the JSON a POST carries into the JSON answered.
final class LoopbackHTTPSWebhook {
    /// The server around `answer`: it gets the certificate and key paths as its arguments and
    /// prints the port it listens on.
    static let server = #"""
    import json, ssl, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps(answer(review)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *args): pass
    server = HTTPServer(("127.0.0.1", 0), Hook)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[1], sys.argv[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#

    let directory: String
    let process: BackgroundProcess
    /// The port it listens on.
    let port: Int
    /// Its certificate, base64 PEM: the `caBundle` that trusts it.
    let caBundle: String

    /// Serves `answer`, Python source defining `answer(review)`.
    init(answer: String, name: String) throws {
        directory = NSTemporaryDirectory() + "orca-e2e-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let openssl = try OrcaServerProcess.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem"])
        guard openssl.status == 0 else {
            try? FileManager.default.removeItem(atPath: directory)
            throw E2EError("openssl: \(openssl.err)")
        }
        try (answer + "\n" + Self.server).write(toFile: directory + "/hook.py", atomically: true, encoding: .utf8)
        process = try BackgroundProcess("/usr/bin/python3", [directory + "/hook.py", directory + "/cert.pem", directory + "/key.pem"], env: [:])
        do {
            try process.waitForOutput("the webhook's port", timeout: 30) { $0.contains("\n") }
            guard let port = Int(process.output.split(separator: "\n").first.map(String.init) ?? "") else {
                throw E2EError("the webhook printed no port: \(process.output)")
            }
            self.port = port
            caBundle = try Data(contentsOf: URL(fileURLWithPath: directory + "/cert.pem")).base64EncodedString()
        } catch {
            kill(process.process.processIdentifier, SIGKILL)
            process.stop()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// `https://127.0.0.1:<port><path>`
    func url(_ path: String) -> String { "https://127.0.0.1:\(port)\(path)" }

    /// Stops the webhook (SIGKILL: a child may inherit a blocked SIGTERM from the test
    /// process) and removes its files; safe to call twice.
    func stop() {
        if process.process.isRunning { kill(process.process.processIdentifier, SIGKILL) }
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
