import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// An `httpGet` probe or hook: one HTTP/1.1 GET to the pod (the kubelet's request:
/// `User-Agent: kube-probe/1.32`, `Accept: */*`, the spec's headers). 2xx and 3xx count as
/// success. HTTP goes over a plain socket; HTTPS through AsyncHTTPClient without verifying the
/// pod's certificate, as the kubelet does (`InsecureSkipVerify`).
struct HTTPGetAction: Sendable {
    var scheme: String
    var host: String
    var port: Int
    var path: String
    var headers: [(name: String, value: String)]

    var url: String {
        let p = path.hasPrefix("/") ? path : "/" + path
        return "\(scheme.lowercased())://\(host):\(port)\(p)"
    }

    /// Runs the GET before `deadline`: success, or the kubelet's failure message.
    func run(deadline: Date) async -> (success: Bool, message: String) {
        switch scheme.uppercased() {
        case "HTTP": break
        case "HTTPS": return await runTLS(deadline: deadline)
        default: return (false, "Get \"\(url)\": unsupported protocol scheme \"\(scheme.lowercased())\"")
        }
        let request = self
        return await ProbeSocket.offload { request.runBlocking(deadline: deadline) }
    }

    func runBlocking(deadline: Date) -> (success: Bool, message: String) {
        do {
            let socket = try ProbeSocket(host: host, port: port, deadline: deadline)
            var lines = ["GET \(path.hasPrefix("/") ? path : "/" + path) HTTP/1.1"]
            let names = Set(headers.map { $0.name.lowercased() })
            if !names.contains("host") { lines.append("Host: \(host):\(port)") }
            if !names.contains("user-agent") { lines.append("User-Agent: kube-probe/1.32") }
            if !names.contains("accept") { lines.append("Accept: */*") }
            for h in headers { lines.append("\(h.name): \(h.value)") }
            lines.append("Connection: close")
            try socket.write(Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8))
            var response: [UInt8] = []
            while !response.contains(UInt8(ascii: "\n")) {
                guard let chunk = try socket.read() else {
                    return (false, "Get \"\(url)\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")
                }
                if chunk.isEmpty { break }
                response += chunk
            }
            let statusLine = String(decoding: response.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
            let parts = statusLine.split(separator: " ")
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) else {
                return (false, "Get \"\(url)\": malformed HTTP response \"\(statusLine)\"")
            }
            if (200..<400).contains(code) { return (true, "") }
            return (false, "HTTP probe failed with statuscode: \(code)")
        } catch {
            return (false, "Get \"\(url)\": \(error)")
        }
    }

    /// One client for every HTTPS probe: no certificate verification, no redirects.
    static let tlsClient: HTTPClient = {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        var config = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        config.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }()

    func runTLS(deadline: Date) async -> (success: Bool, message: String) {
        var request = HTTPClientRequest(url: url)
        let names = Set(headers.map { $0.name.lowercased() })
        if !names.contains("user-agent") { request.headers.add(name: "User-Agent", value: "kube-probe/1.32") }
        if !names.contains("accept") { request.headers.add(name: "Accept", value: "*/*") }
        for h in headers { request.headers.add(name: h.name, value: h.value) }
        let millis = Int64(min(max(0, deadline.timeIntervalSinceNow), 1e9) * 1000)
        do {
            let response = try await Self.tlsClient.execute(request, timeout: .milliseconds(millis))
            let code = Int(response.status.code)
            for try await _ in response.body {}
            if (200..<400).contains(code) { return (true, "") }
            return (false, "HTTP probe failed with statuscode: \(code)")
        } catch {
            return (false, "Get \"\(url)\": \(error)")
        }
    }
}
