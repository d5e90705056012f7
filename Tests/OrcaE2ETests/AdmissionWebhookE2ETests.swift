import Foundation
import Testing

/// Issue 14's webhook acceptance, end to end: a validating webhook served over HTTPS on
/// loopback (Python's `ssl` with a certificate `openssl` makes for the test), registered by URL
/// with its `caBundle`, refuses labelled ConfigMaps created with kubectl and lets the others
/// through; once it is down, `failurePolicy: Fail` refuses and `Ignore` lets through.
@Suite(.serialized) struct AdmissionWebhookE2ETests {
    /// Answers every AdmissionReview: refused when the object carries the label `deny`.
    static let webhook = #"""
    import json, ssl, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            request = review["request"]
            labels = (request.get("object") or {}).get("metadata", {}).get("labels") or {}
            response = {"uid": request["uid"], "allowed": "deny" not in labels}
            if "deny" in labels:
                response["status"] = {"code": 403, "message": "labelled objects are refused"}
            body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}).encode()
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

    static func configuration(_ name: String, url: String, caBundle: String, failurePolicy: String) -> String {
        """
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingWebhookConfiguration
        metadata: {name: \(name)}
        webhooks:
        - name: deny.orca.test
          clientConfig: {url: "\(url)", caBundle: "\(caBundle)"}
          rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}]
          namespaceSelector: {matchLabels: {hooked: "yes"}}
          failurePolicy: \(failurePolicy)
          timeoutSeconds: 5
          sideEffects: None
          admissionReviewVersions: [v1]
        """
    }

    @Test func aValidatingWebhookByURLRefusesLabelledObjects() throws {
        let dir = NSTemporaryDirectory() + "orca-e2e-webhook-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let openssl = try OrcaServerProcess.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"])
        #expect(openssl.status == 0, "\(openssl.err)")
        try Self.webhook.write(toFile: dir + "/hook.py", atomically: true, encoding: .utf8)
        let hook = try BackgroundProcess("/usr/bin/python3", [dir + "/hook.py", dir + "/cert.pem", dir + "/key.pem"], env: [:])
        // SIGKILL: a child may inherit a blocked SIGTERM from the test process.
        func stopHook() {
            if hook.process.isRunning { kill(hook.process.processIdentifier, SIGKILL) }
            hook.stop()
        }
        defer { stopHook() }
        try hook.waitForOutput("the webhook's port", timeout: 30) { $0.contains("\n") }
        let port = try #require(Int(hook.output.split(separator: "\n").first.map(String.init) ?? ""))
        let caBundle = try Data(contentsOf: URL(fileURLWithPath: dir + "/cert.pem")).base64EncodedString()

        let s = try OrcaServerProcess()
        defer { s.stop() }
        _ = try s.k("create", "namespace", "hooked")
        _ = try s.k("label", "namespace", "hooked", "hooked=yes")
        _ = try s.k("apply", "-f", "-", stdin: Self.configuration("deny", url: "https://127.0.0.1:\(port)/validate",
                                                                    caBundle: caBundle, failurePolicy: "Fail"))
        // The configuration reaches the admission chain within a moment.
        let labelled = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bad","namespace":"hooked","labels":{"deny":"yes"}}}"#
        try s.eventually("the webhook refuses a labelled ConfigMap", timeout: 30) {
            let r = try s.kubectl(["create", "-f", "-"], stdin: labelled)
            return r.status != 0 && r.err.contains("admission webhook \"deny.orca.test\" denied the request: labelled objects are refused")
        }
        #expect(try s.kubectl(["get", "configmap", "bad", "-n", "hooked"]).status != 0)
        // Unlabelled objects pass, and other namespaces are not sent to the webhook.
        _ = try s.k("create", "configmap", "good", "-n", "hooked")
        let elsewhere = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"elsewhere","namespace":"default","labels":{"deny":"yes"}}}"#
        _ = try s.k("create", "-f", "-", stdin: elsewhere)

        // A webhook that is down: Fail refuses, Ignore lets through.
        stopHook()
        let refused = try s.kubectl(["create", "configmap", "down-fail", "-n", "hooked"])
        #expect(refused.status != 0)
        #expect(refused.err.contains("failed calling webhook \"deny.orca.test\""))
        _ = try s.k("apply", "-f", "-", stdin: Self.configuration("deny", url: "https://127.0.0.1:\(port)/validate",
                                                                    caBundle: caBundle, failurePolicy: "Ignore"))
        try s.eventually("Ignore lets creates through while the webhook is down", timeout: 30) {
            try s.kubectl(["create", "configmap", "down-ignore", "-n", "hooked"]).status == 0
        }
    }
}
