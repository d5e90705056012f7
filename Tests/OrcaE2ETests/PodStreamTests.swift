import Foundation
import Testing

/// Issue 5 item 6: streams through the API server to the agent — `kubectl exec` (exit codes,
/// stdin, a terminal), `kubectl cp` both ways, `kubectl attach` and `kubectl port-forward` —
/// with the real kubectl over WebSocket (`v5.channel.k8s.io`, `SPDY/3.1+portforward.k8s.io`).
@Suite(.serialized) struct PodStreamTests {
    /// A CGI script (base64, for the pod's command line) that answers with the request's method,
    /// its `HTTP_*` headers and its body.
    static let echoScript = Data("""
        #!/bin/sh
        printf 'Content-Type: text/plain\\r\\n\\r\\n'
        echo method=$REQUEST_METHOD
        env | grep ^HTTP_ | sort
        cat

        """.utf8).base64EncodedString()

    static let httpdPod = """
    apiVersion: v1
    kind: Pod
    metadata: {name: web}
    spec:
      containers:
      - name: httpd
        image: docker.io/library/busybox:1.35
        command: ["sh", "-c", "mkdir -p /www/cgi-bin; echo served-through-port-forward > /www/index.html; echo \(echoScript) | base64 -d > /www/cgi-bin/echo; chmod +x /www/cgi-bin/echo; exec httpd -f -p 80 -h /www"]
      - name: ticker
        image: docker.io/library/busybox:1.35
        command: ["sh", "-c", "i=0; while true; do echo tick-$i; echo tock-$i >&2; i=$((i+1)); sleep 0.5; done"]
    """

    static func webServer() throws -> (OrcaServerProcess, String) {
        let (s, bridge) = try PodTests.agentServer()
        do {
            _ = try s.k("apply", "-f", "-", stdin: httpdPod)
            _ = try s.k("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
        } catch {
            PodTests.shutdown(s, bridge: bridge)
            throw error
        }
        return (s, bridge)
    }

    @Test func execPropagatesOutputStdinAndExitCodes() throws {
        let (s, bridge) = try Self.webServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        #expect(try s.k("exec", "web", "-c", "httpd", "--", "cat", "/etc/hostname") == "web\n")
        let seven = try s.kubectl(["exec", "web", "-c", "httpd", "--", "sh", "-c", "echo out; echo err >&2; exit 7"])
        #expect(seven.status == 7)
        #expect(seven.out == "out\n")
        #expect(seven.err.contains("err\n"))
        let echoed = try s.kubectl(["exec", "-i", "web", "-c", "httpd", "--", "cat"], stdin: "hi\nthere\n")
        #expect(echoed.status == 0 && echoed.out == "hi\nthere\n", "\(echoed)")
        // stdin's end reaches the process (v5 CLOSE signal): wc sees all input and exits.
        let counted = try s.kubectl(["exec", "-i", "web", "-c", "httpd", "--", "wc", "-l"], stdin: String(repeating: "line\n", count: 1000))
        #expect(counted.out.trimmingCharacters(in: .whitespacesAndNewlines) == "1000")
        // The container's environment and working directory apply.
        #expect(try s.k("exec", "web", "-c", "httpd", "--", "sh", "-c", "echo $HOSTNAME:$(pwd)") == "web:/\n")
        let missing = try s.kubectl(["exec", "web", "-c", "httpd", "--", "no-such-command"])
        #expect(missing.status != 0)
        #expect(missing.err.contains("no-such-command"))
        let badContainer = try s.kubectl(["exec", "web", "-c", "nope", "--", "true"])
        #expect(badContainer.status != 0 && badContainer.err.contains("container nope is not valid for pod web"), "\(badContainer)")
        let noPod = try s.kubectl(["exec", "absent", "--", "true"])
        #expect(noPod.status != 0 && noPod.err.contains("not found"))
    }

    /// What client libraries other than kubectl speak (issue 15): exec over the older channel
    /// protocols, binary and base64, and a log over `base64.binary.k8s.io`, with Python's
    /// websocket-client (a dependency of the kubernetes package) and the kubeconfig's certificate.
    static let oldProtocols = #"""
    import base64, ssl, sys, websocket
    from kubernetes import client, config
    config.load_kube_config(sys.argv[1])
    c = client.Configuration.get_default_copy()
    ws_host = c.host.replace("https://", "wss://")
    sslopt = {"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": c.ssl_ca_cert, "certfile": c.cert_file, "keyfile": c.key_file}
    def frames(path, protocol):
        ws = websocket.create_connection(ws_host + path, subprotocols=[protocol], sslopt=sslopt)
        assert ws.subprotocol == protocol, ws.subprotocol
        out = []
        while True:
            try:
                opcode, data = ws.recv_data()
            except websocket.WebSocketConnectionClosedException:
                break
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
            out.append((opcode, data))
        return out
    exec_path = "/api/v1/namespaces/default/pods/web/exec?container=httpd&command=sh&command=-c&command=echo%20hi%3B%20echo%20oops%20%3E%262%3B%20exit%203&stdout=true&stderr=true"
    for protocol in ("base64.channel.k8s.io", "channel.k8s.io", "v4.base64.channel.k8s.io"):
        got = {}
        for opcode, data in frames(exec_path, protocol):
            if protocol.startswith(("base64", "v4.base64")):
                text = data.decode()
                channel, payload = int(text[0]), base64.b64decode(text[1:])
            else:
                channel, payload = data[0], data[1:]
            got[channel] = got.get(channel, b"") + payload
        print(protocol, "stdout=" + got.get(1, b"").decode().strip(), "stderr=" + got.get(2, b"").decode().strip(),
              "error=" + got.get(3, b"").decode().strip().replace("\n", " "), flush=True)
    log = b"".join(base64.b64decode(d) for _, d in frames("/api/v1/namespaces/default/pods/web/log?container=ticker&tailLines=2", "base64.binary.k8s.io"))
    print("log", log.decode().strip().replace("\n", ","), flush=True)
    """#

    @Test func execAndLogsOverTheOlderWebSocketProtocols() throws {
        try #require(try PythonClientTests.ensureClient(), "the kubernetes Python package is not available")
        let (s, bridge) = try Self.webServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let scriptPath = s.dataDir + "/old-protocols.py"
        try Self.oldProtocols.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let r = try OrcaServerProcess.run(PythonClientTests.python, ["python3", scriptPath, s.kubeconfig], timeout: 120)
        #expect(r.status == 0, "\(r.out)\n\(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("base64.channel.k8s.io stdout=hi stderr=oops error=command terminated with non-zero exit code") }, "\(r.out)")
        #expect(lines.contains { $0.hasPrefix("channel.k8s.io stdout=hi stderr=oops error=command terminated with non-zero exit code") }, "\(r.out)")
        #expect(lines.contains { $0.hasPrefix("v4.base64.channel.k8s.io stdout=hi stderr=oops error={") && $0.contains("NonZeroExitCode") }, "\(r.out)")
        let log = try #require(lines.first { $0.hasPrefix("log ") }, "\(r.out)")
        #expect(log.contains("tick-"), "\(log)")
    }

    /// `pods/proxy`: HTTP to a pod's port through the API server (issue 15 item 8).
    @Test func podProxyReachesThePodsHTTPPort() throws {
        let (s, bridge) = try Self.webServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        #expect(try s.k("get", "--raw", "/api/v1/namespaces/default/pods/web/proxy/index.html") == "served-through-port-forward\n")
        #expect(try s.k("get", "--raw", "/api/v1/namespaces/default/pods/http:web:80/proxy/") == "served-through-port-forward\n")
        let missing = try s.kubectl(["get", "--raw", "/api/v1/namespaces/default/pods/web:80/proxy/absent"])
        #expect(missing.status != 0 && missing.err.contains("NotFound"), "\(missing.err)")
        let closed = try s.kubectl(["get", "--raw", "/api/v1/namespaces/default/pods/web:81/proxy/"])
        #expect(closed.status != 0 && closed.err.contains("connection refused"), "\(closed.err)")
    }

    /// `services/proxy`: HTTP to a ready endpoint of a Service through the API server, the port
    /// named by number (the Service's port) or by name, as kube-apiserver resolves it.
    @Test func serviceProxyReachesAReadyEndpoint() throws {
        let (s, bridge) = try Self.webServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        _ = try s.k("label", "pod", "web", "app=web")
        _ = try s.k("apply", "-f", "-", stdin: """
            apiVersion: v1
            kind: Service
            metadata: {name: plain}
            spec: {selector: {app: web}, ports: [{port: 8080, targetPort: 80}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: named}
            spec: {selector: {app: web}, ports: [{name: http, port: 8081, targetPort: 80}, {name: other, port: 8082, targetPort: 81}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: nobody}
            spec: {selector: {app: none}, ports: [{port: 80}]}
            """)
        try s.eventually("the Services' endpoints") {
            try s.k("get", "endpoints", "plain", "named", "-o", "jsonpath={.items[*].subsets[0].addresses[0].ip}")
                .split(separator: " ").count == 2
        }
        let page = "served-through-port-forward\n"
        for id in ["plain", "plain:8080", "named:http", "http:named:8081", ":named:http"] {
            #expect(try s.k("get", "--raw", "/api/v1/namespaces/default/services/\(id)/proxy/index.html") == page, "\(id)")
        }
        func failure(_ id: String) throws -> String {
            let r = try s.kubectl(["get", "--raw", "/api/v1/namespaces/default/services/\(id)/proxy/"])
            #expect(r.status != 0, "\(id): \(r.out)")
            return r.err
        }
        #expect(try failure("named:9999").contains("no service port 9999 found for service \"named\""))
        #expect(try failure("named").contains("no endpoints available for service \"named\""))
        #expect(try failure("nobody").contains("no endpoints available for service \"nobody\""))
        #expect(try failure("named:other").contains("connection refused"))
        #expect(try failure("absent").contains("NotFound"))
        #expect(try failure("ftp:plain:80").contains("invalid service request"))

        // `…/proxy` goes to `…/proxy/`; a HEAD passes through with the backend's headers.
        let api = try RawAPI(s)
        let bare = try api.call("GET", "/api/v1/namespaces/default/services/plain/proxy", extra: ["-D", "-"])
        #expect(bare.code == 301 && bare.text.lowercased().contains("location: /api/v1/namespaces/default/services/plain/proxy/"), "\(bare.text)")
        let head = try api.call("HEAD", "/api/v1/namespaces/default/services/plain/proxy/index.html", extra: ["-I"])
        #expect(head.code == 200 && head.text.lowercased().contains("last-modified:"), "\(head.text)")
        // Any method, its body and the client's headers pass through; its credentials do not (the
        // script shows an Authorization header it is sent as HTTP_AUTHORIZATION).
        let token = try String(contentsOfFile: s.dataDir + "/tls/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let posted = try api.call("POST", "/api/v1/namespaces/default/services/named:8081/proxy/cgi-bin/echo", body: "the-body",
                                  contentType: "text/plain", extra: ["-H", "User-Agent: orca-e2e-agent", "-H", "Authorization: Bearer \(token)"])
        #expect(posted.code == 200 && posted.text.contains("method=POST") && posted.text.contains("the-body"), "\(posted.text)")
        #expect(posted.text.contains("orca-e2e-agent") && !posted.text.contains(token), "\(posted.text)")
    }

    @Test func copyBothWays() throws {
        let (s, bridge) = try Self.webServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let dir = NSTemporaryDirectory() + "orca-cp-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/tree/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var blob = [UInt8](repeating: 0, count: 700_000)
        for i in blob.indices { blob[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        try Data(blob).write(to: URL(fileURLWithPath: dir + "/tree/blob.bin"))
        try "nested\n".write(toFile: dir + "/tree/sub/note.txt", atomically: true, encoding: .utf8)

        _ = try s.k("cp", dir + "/tree", "web:/tmp/tree", "-c", "httpd")
        #expect(try s.k("exec", "web", "-c", "httpd", "--", "cat", "/tmp/tree/sub/note.txt") == "nested\n")
        #expect(try s.k("exec", "web", "-c", "httpd", "--", "wc", "-c", "/tmp/tree/blob.bin").hasPrefix("700000"))

        _ = try s.k("cp", "web:/tmp/tree", dir + "/back", "-c", "httpd")
        #expect(FileManager.default.contents(atPath: dir + "/back/blob.bin") == Data(blob))
        #expect(try String(contentsOfFile: dir + "/back/sub/note.txt", encoding: .utf8) == "nested\n")
        _ = try s.k("cp", "web:/www/index.html", dir + "/index.html", "-c", "httpd")
        #expect(try String(contentsOfFile: dir + "/index.html", encoding: .utf8) == "served-through-port-forward\n")
    }

    @Test func portForwardReachesThePodsPort() throws {
        let (s, bridge) = try Self.webServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let forward = try BackgroundProcess("/usr/bin/kubectl", ["port-forward", "pod/web", ":80", "--address", "127.0.0.1"],
                                            env: ["KUBECONFIG": s.kubeconfig])
        defer { forward.stop() }
        try forward.waitForOutput("the forwarding port") { $0.contains("Forwarding from 127.0.0.1:") }
        let line = forward.output.split(separator: "\n").first { $0.contains("Forwarding from 127.0.0.1:") } ?? ""
        let port = line.split(separator: ":").last.flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0
        #expect(port > 0, "\(forward.output)")
        for _ in 0..<3 {
            let r = try OrcaServerProcess.run("/usr/bin/curl", ["-sS", "-m", "20", "http://127.0.0.1:\(port)/index.html"])
            #expect(r.status == 0 && r.out == "served-through-port-forward\n", "\(r) \(forward.output)")
        }
        let missing = try OrcaServerProcess.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "20", "http://127.0.0.1:\(port)/missing"])
        #expect(missing.out == "404")
    }

    @Test func attachAndTerminal() throws {
        let (s, bridge) = try Self.webServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let attach = try BackgroundProcess("/usr/bin/kubectl", ["attach", "web", "-c", "ticker"], env: ["KUBECONFIG": s.kubeconfig])
        defer { attach.stop() }
        try attach.waitForOutput("attached output") { $0.contains("tick-") && $0.contains("tock-") }

        // `exec -it` needs a terminal on kubectl's side: script(1) gives it one.
        let tty = try OrcaServerProcess.run("/usr/bin/script", ["-qfec", "stty cols 91 rows 27; kubectl exec -it web -c httpd -- sh -c 'stty size; tty; exit 5'", "/dev/null"],
                                            env: ["KUBECONFIG": s.kubeconfig], timeout: 60)
        #expect(tty.status == 5, "\(tty)")
        #expect(tty.out.contains("27 91"), "\(tty.out)")
        #expect(tty.out.contains("/dev/pts/"), "\(tty.out)")
    }

    /// `kubectl debug` adds an ephemeral container through `pods/ephemeralcontainers`, waits for
    /// it and attaches; with `--target` it sees the target container's processes.
    @Test func debugIntoARunningPod() throws {
        let (s, bridge) = try Self.webServer()
        defer { PodTests.shutdown(s, bridge: bridge) }
        let debug = try s.kubectl(["debug", "-i", "web", "--image=docker.io/library/busybox:1.35", "--target=httpd", "-c", "dbg",
                                   "--", "sh"], stdin: "ps -o args; echo host=$(hostname); exit 3\n", timeout: 90)
        #expect(debug.out.contains("httpd -f -p 80"), "\(debug)")
        #expect(debug.out.contains("host=web"), "\(debug)")
        try s.eventually("the ephemeral container's status") {
            try s.k("get", "pod", "web", "-o", "jsonpath={.status.ephemeralContainerStatuses[0].state.terminated.exitCode}") == "3"
        }
        #expect(try s.k("get", "pod", "web", "-o", "jsonpath={.spec.ephemeralContainers[0].targetContainerName}") == "httpd")
        // The pod is not disturbed: still Ready, no restarts.
        #expect(try s.k("get", "pod", "web", "-o", "jsonpath={.status.containerStatuses[*].restartCount}") == "0 0")

        // -it: a terminal (script(1) gives kubectl one), typed into once kubectl has attached.
        let tty = try BackgroundProcess("/usr/bin/script", ["-qfec", "kubectl debug -it web --image=docker.io/library/busybox:1.35 -c dbg-tty -- sh", "/dev/null"],
                                        env: ["KUBECONFIG": s.kubeconfig])
        defer { tty.stop() }
        try tty.waitForOutput("kubectl debug -it to attach", timeout: 90) { $0.contains("If you don't see a command prompt") }
        tty.send("tty; echo shell-$((6*7)); exit\n")
        #expect(try tty.waitForExit(timeout: 60) == 0, "\(tty.output)")
        #expect(tty.output.contains("/dev/pts/"), "\(tty.output)")
        #expect(tty.output.contains("shell-42"), "\(tty.output)")

        // Existing ephemeral containers cannot be changed.
        let change = try s.kubectl(["patch", "pod", "web", "--subresource=ephemeralcontainers", "--type=json",
                                    "-p", #"[{"op":"replace","path":"/spec/ephemeralContainers/0/image","value":"other"}]"#])
        #expect(change.status != 0)
        #expect(change.err.contains("may not be changed"), "\(change)")
    }
}
